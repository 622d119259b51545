package main

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/reports"
)

type diffOptions struct {
	judge   diffFlags
	report  reportFlags
	json    bool
	verbose bool
	threads int
}

func newDiffCommand(a *app) *cobra.Command {
	var o diffOptions
	cmd := &cobra.Command{
		Use:   "diff A.trace.jsonl.zst B.trace.jsonl.zst",
		Short: "Compare two traces (A is the reference) and name the first divergent tensor",
		Long: `diff lines two traces up by step, layer and slot, compares each pair over the same
token positions only, judges it against the profile's NMSE budget for its slot and
names the first pair that fails. Pairs that cannot be compared over the same sample
are REFUSED with the reason and the fix, never given a number.

Exit status: 0 PASS or WARN, 1 FAIL, 2 REFUSED, 3 usage or I/O error.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd.Context(), a, args[0], args[1], o, reportMeta(cmd, args))
		},
	}
	f := cmd.Flags()
	o.judge.register(f)
	f.IntVar(&o.threads, "threads", 0, "threads for measuring the noise floor (calibrated profile)")
	f.BoolVar(&o.json, "json", false, "print the bare diff.Result as JSON (--format json prints the whole report)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "list every pair, not just the worst of each layer and the non-PASS ones")
	o.report.register(f)
	cmd.MarkFlagsMutuallyExclusive("json", "format")
	return cmd
}

func runDiff(ctx context.Context, a *app, pathA, pathB string, o diffOptions, meta reports.Meta) error {
	opts, err := o.judge.options()
	if err != nil {
		return err
	}
	format, err := o.report.check()
	if err != nil {
		return err
	}
	paint, err := a.painter(a.stdout)
	if err != nil {
		return err
	}
	ta, err := probes.ReadFile(pathA)
	if err != nil {
		return err
	}
	tb, err := probes.ReadFile(pathB)
	if err != nil {
		return err
	}
	var note string
	if opts.Profile == diff.ProfileCalibrated {
		// The floor is measured on the traced model (when its file is still
		// there) over A's tokens, exactly as bisect measures it, so a diff of
		// two traces judges like the bisect that could have produced them.
		h := &ta.Header
		if opts.Floor, err = noiseFloor(ctx, []probes.Model{tb.Header.Model, h.Model}, h.Tokens[:h.PromptLen], h.Tokens[h.PromptLen:], o.threads); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			note = "no noise floor (" + err.Error() + "); quant budgets used"
		}
	}
	res, err := diff.Diff(ta, tb, opts)
	if err != nil {
		return err
	}
	if note != "" {
		res.Notes = append(res.Notes, note)
	}
	res.A.File, res.B.File = pathA, pathB
	d := reports.NewDiff(res, meta)
	if err := o.report.writeDir(a, d, reports.DirOptions{}); err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	} else {
		err = reports.Write(a.stdout, format, d, reports.TextOptions{Painter: paint, Verbose: o.verbose})
	}
	if err != nil {
		return err
	}
	return res.Verdict.Err()
}
