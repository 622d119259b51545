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
	"github.com/layerwise/parity/runtimes/ggml"
)

type compareDecodeOptions struct {
	model   string
	n       int
	faults  []string
	json    bool
	verbose bool
	prompt  promptFlags
	engine  engineFlags
	judge   diffFlags
}

// newCompareDecodeCommand is `parity diag compare-decode`: the KV-cache
// self-consistency check of one engine (diff.CompareDecode).
func newCompareDecodeCommand(a *app) *cobra.Command {
	var o compareDecodeOptions
	cmd := &cobra.Command{
		Use:   "compare-decode --model M (--prompt TEXT | --tokens IDS) -n N",
		Short: "Check one engine's KV-cache decode against a prefill of the same sequence",
		Long: `compare-decode runs one engine twice over the same tokens: the prompt, then N greedy
single-token steps through its KV cache; and one prefill of the whole sequence (the prompt
and the N generated tokens). Position p must come out the same either way, since it depends
only on its own row and the keys and values of the positions before it. Every slot of every
layer is compared position by position (the prefill is the reference), so a KV-cache bug —
a row written to the wrong place, K and V swapped, a RoPE position off by one in decode —
is named at its (step, layer, slot) without a second runtime.

Budgets: the two runs sum in different orders (batched vs single-row kernels), and where
activations are quantized a value on a rounding boundary can land one level apart. The
default calibrated profile (4× the activation-quantization floor of each record, at least
1e-10) holds that; an f16 KV cache (--kv-type f16) also rounds K, V, Q and the attention
probabilities, which that floor does not measure, so it is judged with the quant profile
unless --profile says otherwise.

Exit status: 0 the two paths agree, 1 they diverge, 2 the comparison was refused, 3 usage/IO.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCompareDecode(cmd, a, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.model, "model", "m", "", "model file (.gguf or .apr)")
	f.IntVarP(&o.n, "n", "n", 8, "greedy decode steps after the prompt")
	f.StringArrayVar(&o.faults, "fault", nil, "plant a fault in the engine, e.g. stale-kv@1 (testing parity itself)")
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "list every pair")
	o.prompt.register(f)
	o.engine.register(f, "engine", "gguf")
	o.judge.register(f)
	cmd.MarkFlagRequired("model")
	return cmd
}

// decodeRunner adapts a Runtime to diff.DecodeRunner.
type decodeRunner struct{ rt runtimes.Runtime }

func (r decodeRunner) PrefillDecode(ctx context.Context, prompt []int32, steps int, p probes.Policy) (*probes.Trace, *probes.Trace, error) {
	return runtimes.PrefillDecode(ctx, r.rt, prompt, steps, p, "parity "+version())
}

func runCompareDecode(cmd *cobra.Command, a *app, o compareDecodeOptions) error {
	if o.n < 1 {
		return usageErr(fmt.Errorf("-n must be at least 1, not %d", o.n))
	}
	opts, err := o.judge.options()
	if err != nil {
		return err
	}
	rtOpts, err := o.engine.options()
	if err != nil {
		return err
	}
	var note string
	if rtOpts.KVType == ggml.F16 && !cmd.Flags().Changed("profile") {
		opts.Profile = diff.ProfileQuant
		note = "f16 KV cache: judged with the quant profile (the calibrated floor measures activation quantization, not f16 rounding of K, V, Q and the probabilities)"
	}
	for _, s := range o.faults {
		f, err := faults.Parse(s)
		if err != nil {
			return usageErr(err)
		}
		rtOpts.Faults = append(rtOpts.Faults, f)
	}
	paint, err := a.painter(a.stdout)
	if err != nil {
		return err
	}
	rt, err := runtimes.Open(o.model, o.engine.engine, rtOpts)
	if err != nil {
		return err
	}
	defer rt.Close()
	prompt, err := o.prompt.resolve(rt)
	if err != nil {
		return err
	}
	res, err := diff.CompareDecode(cmd.Context(), decodeRunner{rt}, diff.CompareDecodeOptions{Options: opts, Prompt: prompt, Decode: o.n,
		Calibrate: func(ctx context.Context, prompt, force []int32) (map[probes.Key]float64, error) {
			return noiseFloor(ctx, []probes.Model{{Path: o.model}}, prompt, force, o.engine.threads)
		}})
	if err != nil {
		return err
	}
	if note != "" {
		res.Notes = append(res.Notes, note)
	}
	setFlipText(res.Decode, rt)
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

// setFlipText decodes the first differing tokens with the model's
// tokenizer, when it has one.
func setFlipText(d *diff.Decode, rt runtimes.Runtime) {
	tok, err := rt.Tokenizer()
	if err != nil {
		return
	}
	d.SetFlipText(func(id int32) string {
		if s, err := tok.Decode([]int32{id}); err == nil {
			return s
		}
		return tok.Token(id)
	})
}
