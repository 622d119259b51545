package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes"
)

type traceOptions struct {
	model  string
	out    string
	decode int
	prompt promptFlags
	engine engineFlags
	policy policyFlags
	memory memoryFlag
}

func newTraceCommand(a *app) *cobra.Command {
	var o traceOptions
	cmd := &cobra.Command{
		Use:   "trace --model M (--prompt TEXT | --tokens IDS) -o OUT.trace.jsonl.zst",
		Short: "Run one engine and record every slot of every layer into a trace file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTrace(cmd, a, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.model, "model", "m", "", "model file (.gguf or .apr)")
	f.StringVarP(&o.out, "output", "o", "", "trace file to write (NAME.trace.jsonl.zst; --full adds NAME.tensors.gguf)")
	f.IntVarP(&o.decode, "decode", "n", 0, "greedy decode steps to trace after the prompt")
	o.prompt.register(f)
	o.engine.register(f, "engine", "gguf")
	o.policy.register(f)
	o.memory.register(f)
	cmd.MarkFlagRequired("model")
	cmd.MarkFlagRequired("output")
	return cmd
}

func runTrace(cmd *cobra.Command, a *app, o traceOptions) error {
	pol, err := o.policy.policy()
	if err != nil {
		return err
	}
	if _, _, err := o.memory.limit(); err != nil {
		return err
	}
	rt, err := o.engine.open(o.model)
	if err != nil {
		return err
	}
	defer rt.Close()
	ids, err := o.prompt.resolve(rt)
	if err != nil {
		return err
	}
	if pol.Mode == probes.ModeFull {
		dims := rt.Model().Dims
		what := fmt.Sprintf("%d layers, %d positions", dims.Layers, len(ids)+o.decode)
		if err := o.memory.check(pol.FullBytes(dims, len(ids), o.decode), what,
			"capture less with --slots, --layers or --positions, a shorter prompt or fewer --decode steps"); err != nil {
			return err
		}
	}
	rec, err := probes.NewRecorder(pol)
	if err != nil {
		return err
	}
	res, err := rt.Run(cmd.Context(), runtimes.Request{Prompt: ids, Decode: o.decode}, rec)
	if err != nil {
		return err
	}
	tr, err := rec.Trace(runtimes.Header(rt, res.Fed, len(ids), pol, "parity "+version()))
	if err != nil {
		return err
	}
	if err := probes.WriteFile(o.out, tr); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "wrote %s: %d records, engine %s, %d prompt tokens, %d decode steps\n",
		o.out, len(tr.Records), rt.Engine(), len(ids), o.decode)
	return nil
}
