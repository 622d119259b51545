package main

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/reports"
)

type diffOptions struct {
	align      string
	profile    string
	thresholds []string
	json       bool
	verbose    bool
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
		RunE: func(_ *cobra.Command, args []string) error {
			return runDiff(a, args[0], args[1], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.align, "align", "auto", "positions to compare: auto (the common ones), strict (refuse any mismatch), last, or all")
	f.StringVar(&o.profile, "profile", "quant", "tolerance profile: quant (f32 vs activation-quantizing engine) or exact (1e-8)")
	f.StringArrayVar(&o.thresholds, "threshold", nil, "NMSE budget override SLOT=VALUE, globs allowed (e.g. ffn_*=1e-3); repeatable")
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "list every pair, not just the worst of each layer and the non-PASS ones")
	return cmd
}

func runDiff(a *app, pathA, pathB string, o diffOptions) error {
	var opts diff.Options
	var err error
	if opts.Align, err = diff.ParseAlign(o.align); err != nil {
		return usageErr(err)
	}
	if opts.Profile, err = diff.ParseProfile(o.profile); err != nil {
		return usageErr(err)
	}
	for _, s := range o.thresholds {
		ov, err := diff.ParseOverride(s)
		if err != nil {
			return usageErr(err)
		}
		opts.Overrides = append(opts.Overrides, ov)
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
	res, err := diff.Diff(ta, tb, opts)
	if err != nil {
		return err
	}
	res.A.File, res.B.File = pathA, pathB
	if o.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	} else {
		err = reports.Text(a.stdout, res, reports.TextOptions{Painter: paint, Verbose: o.verbose})
	}
	if err != nil {
		return err
	}
	return res.Verdict.Err()
}
