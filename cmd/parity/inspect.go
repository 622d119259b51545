package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/layerwise/parity/reports"
	"github.com/layerwise/parity/runtimes"
)

type inspectOptions struct {
	json  bool
	allKV bool
}

func newInspectCommand(a *app) *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect MODEL",
		Short: "Show a model file's metadata and tensors (GGUF or APR)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(a, args[0], o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the description as JSON")
	cmd.Flags().BoolVar(&o.allKV, "kv", false, "also list every metadata key")
	return cmd
}

func runInspect(a *app, path string, o inspectOptions) error {
	d, err := runtimes.Describe(path, o.allKV)
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	p, err := a.painter(a.stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s  %s v%s, %d bytes\n\n", p.Bold(d.Path), strings.ToUpper(string(d.Format)), d.Version, d.Size)
	t := reports.NewTable(a.stdout, []string{"key", "value"})
	for _, f := range d.Summary {
		t.Append(f.Key, f.Value)
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, prob := range d.Problems {
		fmt.Fprintf(a.stdout, "%s %s\n", p.Warn("note:"), prob)
	}
	if len(d.KV) > 0 {
		fmt.Fprintln(a.stdout)
		t = reports.NewTable(a.stdout, []string{"metadata key", "value"})
		for _, f := range d.KV {
			t.Append(f.Key, f.Value)
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	fmt.Fprintln(a.stdout)
	t = reports.NewTable(a.stdout, []string{"tensor", "dtype", "shape", "bytes", "offset"}, 3, 4)
	for _, r := range d.Tensors {
		t.Append(r.Name, r.DType, shapeString(r.Shape), strconv.FormatInt(r.Bytes, 10), strconv.FormatInt(r.Offset, 10))
	}
	return t.Render()
}

func shapeString(dims []int64) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return strings.Join(parts, "×")
}
