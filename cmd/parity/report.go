package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/reports"
)

// reportFlags are the output settings diff and bisect share: what goes to
// stdout, and the report directory.
type reportFlags struct {
	format string
	dir    string
	force  bool
}

func (r *reportFlags) register(f *pflag.FlagSet) {
	f.StringVar(&r.format, "format", "text", "what goes to stdout: text, markdown (for a PR comment), html or json")
	f.StringVar(&r.dir, "report", "", "also write report.md, report.html and report.json (bisect: and both traces) into this directory")
	f.BoolVar(&r.force, "force", false, "write into a --report directory that is not empty")
}

// check validates the flags before any work is done: the format, and that
// the report directory may be written.
func (r *reportFlags) check() (reports.Format, error) {
	f, err := reports.ParseFormat(r.format)
	if err != nil {
		return 0, usageErr(err)
	}
	if r.dir != "" {
		if err := reports.CheckDir(r.dir, r.force); err != nil {
			if errors.Is(err, reports.ErrDirNotEmpty) {
				return 0, usageErr(err)
			}
			return 0, err
		}
	}
	return f, nil
}

// writeDir writes the report directory, when one was asked for.
func (r *reportFlags) writeDir(a *app, d *reports.Document, traces reports.DirOptions) error {
	if r.dir == "" {
		return nil
	}
	traces.Force = r.force
	if err := reports.WriteDir(r.dir, d, traces); err != nil {
		return err
	}
	files := append([]string{reports.FileMarkdown, reports.FileHTML, reports.FileJSON}, d.Traces...)
	_, err := fmt.Fprintf(a.stderr, "parity: wrote %s into %s\n", strings.Join(files, ", "), r.dir)
	return err
}

// outputOnly are the flags that shape output but not the result; the
// reproduce command leaves them out.
var outputOnly = map[string]bool{"format": true, "report": true, "force": true, "json": true, "verbose": true, "color": true}

// reportMeta describes the invocation for a report: the tool's version and
// the command that reproduces the result — the command path, every flag
// that was set except the output-only ones (long names, in pflag's
// order), and the arguments.
func reportMeta(cmd *cobra.Command, args []string) reports.Meta {
	line := strings.Fields(cmd.CommandPath())
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if outputOnly[f.Name] {
			return
		}
		name := "--" + f.Name
		var vals []string
		switch v := f.Value.(type) {
		case pflag.SliceValue:
			vals = v.GetSlice()
		default:
			if f.Value.Type() == "bool" {
				if f.Value.String() == "true" {
					line = append(line, name)
				} else {
					line = append(line, name+"=false")
				}
				return
			}
			vals = []string{f.Value.String()}
		}
		for _, s := range vals {
			if strings.HasPrefix(s, "-") {
				line = append(line, name+"="+s)
			} else {
				line = append(line, name, s)
			}
		}
	})
	for _, s := range args {
		if strings.HasPrefix(s, "-") {
			line = append(line, "--")
			break
		}
	}
	return reports.Meta{Tool: "parity " + version(), Command: append(line, args...)}
}

// keepTrace remembers the trace its runner last produced: diff.Bisect runs
// each side once, and --report writes both traces beside the report.
type keepTrace struct {
	diff.Runner
	last *probes.Trace
}

func (k *keepTrace) Trace(ctx context.Context, prompt []int32, decode int, force []int32, p probes.Policy) (*probes.Trace, error) {
	tr, err := k.Runner.Trace(ctx, prompt, decode, force, p)
	k.last = tr
	return tr, err
}
