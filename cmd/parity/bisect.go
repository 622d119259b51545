package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/reports"
	"github.com/layerwise/parity/runtimes"
	"github.com/layerwise/parity/runtimes/faults"
)

type bisectOptions struct {
	a, b    string
	bEngine string
	ref     string
	decode  int
	bFaults []string
	json    bool
	verbose bool
	report  reportFlags
	prompt  promptFlags
	engine  engineFlags // A's engine and the settings both share
	judge   diffFlags
	memory  memoryFlag
}

func newBisectCommand(a *app) *cobra.Command {
	var o bisectOptions
	cmd := &cobra.Command{
		Use:   "bisect --a MODEL --b MODEL (--prompt TEXT | --tokens IDS)",
		Short: "Run two runtimes over the same tokens and name the first tensor, and the operation, where they part",
		Long: `bisect runs A (the reference) and B over the same token ids, records every slot of
every layer with full tensors, compares them pair by pair over the same token positions,
and names the first pair that fails. When that is at the prompt step, it replays each
layer of B on A's input to that layer, then each operation of the culprit layer on A's
inputs to it (teacher forcing), so the operation that adds the error is named rather
than the ones that inherit it.

Exit status: 0 the runs agree, 1 they diverge, 2 the comparison was refused, 3 usage/IO.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBisect(cmd.Context(), a, o, reportMeta(cmd, args))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.a, "a", "", "model A, the reference (.gguf or .apr)")
	f.StringVar(&o.b, "b", "", "model B (.gguf or .apr)")
	o.engine.register(f, "a-engine", "apr")
	f.StringVar(&o.bEngine, "b-engine", "gguf", "B's engine: gguf, apr or llamacpp")
	f.StringVar(&o.ref, "ref", "", "a third runtime as reference at the first divergence: llamacpp")
	f.IntVarP(&o.decode, "decode", "n", 0, "greedy decode steps after the prompt (A's choices; B follows them)")
	f.StringArrayVar(&o.bFaults, "b-fault", nil, "plant a fault in B's engine, e.g. rope-style@1 (testing parity itself; see parity selftest)")
	f.BoolVar(&o.json, "json", false, "print the bare diff.Bisection as JSON (--format json prints the whole report)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "list every pair")
	o.report.register(f)
	cmd.MarkFlagsMutuallyExclusive("json", "format")
	o.prompt.register(f)
	o.judge.register(f)
	o.memory.register(f)
	cmd.MarkFlagRequired("a")
	cmd.MarkFlagRequired("b")
	return cmd
}

// runner adapts a Runtime to diff.Runner.
type runner struct{ rt runtimes.Runtime }

func (r runner) Trace(ctx context.Context, prompt []int32, decode int, force []int32, p probes.Policy) (*probes.Trace, error) {
	tr, _, err := runtimes.Trace(ctx, r.rt, runtimes.Request{Prompt: prompt, Decode: decode, Force: force}, p, "parity "+version())
	return tr, err
}

func runBisect(ctx context.Context, a *app, o bisectOptions, meta reports.Meta) error {
	opts, err := o.judge.options()
	if err != nil {
		return err
	}
	format, err := o.report.check()
	if err != nil {
		return err
	}
	rtOpts, err := o.engine.options()
	if err != nil {
		return err
	}
	bOpts := rtOpts
	for _, s := range o.bFaults {
		f, err := faults.Parse(s)
		if err != nil {
			return usageErr(err)
		}
		bOpts.Faults = append(bOpts.Faults, f)
	}
	paint, err := a.painter(a.stdout)
	if err != nil {
		return err
	}
	ra, err := runtimes.Open(o.a, o.engine.engine, rtOpts)
	if err != nil {
		return fmt.Errorf("model A: %w", err)
	}
	defer ra.Close()
	rb, err := runtimes.Open(o.b, o.bEngine, bOpts)
	if err != nil {
		return fmt.Errorf("model B: %w", err)
	}
	defer rb.Close()
	prompt, err := o.prompt.resolve(ra)
	if err != nil {
		return err
	}
	var ref diff.Runner
	switch o.ref {
	case "":
	case "llamacpp":
		path := o.b
		if o.bEngine == "apr" && o.engine.engine == "gguf" {
			path = o.a
		}
		rr, err := runtimes.Open(path, "llamacpp", rtOpts)
		if err != nil {
			return fmt.Errorf("reference: %w", err)
		}
		defer rr.Close()
		ref = runner{rr}
	default:
		return usageErr(fmt.Errorf("--ref must be llamacpp, not %q", o.ref))
	}
	if err := o.memory.checkBisect(ra, rb, len(prompt), o.decode, opts.Profile == diff.ProfileCalibrated, ref != nil); err != nil {
		return err
	}
	bo := diff.BisectOptions{Options: opts, Prompt: prompt, Decode: o.decode, QKNorm: runtimes.QKNorm(rb),
		Calibrate: func(ctx context.Context, prompt, force []int32) (map[probes.Key]float64, error) {
			return noiseFloor(ctx, []probes.Model{{Path: o.b}, {Path: o.a}}, prompt, force, o.engine.threads)
		}}
	var replay diff.Replayer
	if r, ok := runtimes.ReplayerOf(rb); ok {
		replay = r
	}
	ka, kb := &keepTrace{Runner: runner{ra}}, &keepTrace{Runner: runner{rb}}
	bs, err := diff.Bisect(ctx, ka, kb, replay, ref, bo)
	if err != nil {
		return err
	}
	setFlipText(bs.Result.Decode, ra)
	d := reports.NewBisection(bs, meta)
	if err := o.report.writeDir(a, d, reports.DirOptions{A: ka.last, B: kb.last}); err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(bs)
	} else {
		err = reports.Write(a.stdout, format, d, reports.TextOptions{Painter: paint, Verbose: o.verbose})
	}
	if err != nil {
		return err
	}
	return bs.Result.Verdict.Err()
}
