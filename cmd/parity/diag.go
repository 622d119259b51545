package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/reports"
	"github.com/layerwise/parity/runtimes"
	"github.com/layerwise/parity/runtimes/diag"
	"github.com/layerwise/parity/runtimes/model"
	"github.com/layerwise/parity/runtimes/tokenizer"
)

func newDiagCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diag",
		Short: "Checks to run before bisecting: embedding tables, all weights, one operation",
		Long: `diag holds the checks that rule things out before a bisection: are the embedding
rows this prompt reads the same in both files, are all weights the same (or within
what their encodings explain, or a known layout trap), and does one operation compute
the same in two engines when both are fed the same input.

Each prints terminal tables, --json, or --markdown (a section for a pull request).
Exit status: 0 the two sides agree, 1 they differ, 3 usage or I/O error.`,
	}
	cmd.AddCommand(newCompareEmbeddingCommand(a), newCompareWeightsCommand(a), newCompareOpCommand(a), newCompareDecodeCommand(a))
	return cmd
}

// diagFlags are what every diag command shares: the two model files and
// the output format.
type diagFlags struct {
	a, b           string
	json, markdown bool
}

func (d *diagFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&d.a, "a", "", "model A, the reference (.gguf or .apr)")
	f.StringVar(&d.b, "b", "", "model B (.gguf or .apr)")
	f.BoolVar(&d.json, "json", false, "print the result as JSON")
	f.BoolVar(&d.markdown, "markdown", false, "print a markdown section for a pull request")
	cmd.MarkFlagRequired("a")
	cmd.MarkFlagRequired("b")
}

func (d *diagFlags) open() (*model.Weights, *model.Weights, error) {
	if d.json && d.markdown {
		return nil, nil, usageErr(errors.New("give --json or --markdown, not both"))
	}
	wa, err := model.Open(d.a)
	if err != nil {
		return nil, nil, err
	}
	wb, err := model.Open(d.b)
	if err != nil {
		wa.Close()
		return nil, nil, err
	}
	return wa, wb, nil
}

// output writes a result in the chosen format and turns a disagreement
// into exit status 1.
func (d *diagFlags) output(a *app, what string, res interface {
	Write(io.Writer, diag.RenderOptions) error
}, v diag.Verdict, verbose bool) error {
	if d.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		paint, err := a.painter(a.stdout)
		if err != nil {
			return err
		}
		o := diag.RenderOptions{Painter: paint, Table: reports.NewTable, Markdown: d.markdown, Verbose: verbose}
		if err := res.Write(a.stdout, o); err != nil {
			return err
		}
	}
	if !v.OK() {
		return fmt.Errorf("%s: %s: %w", what, v, diff.ErrDivergence)
	}
	return nil
}

// weightsTokenizer lets promptFlags.resolve tokenize with model A's own
// tokenizer without loading an engine; resolve calls nothing but
// Tokenizer, so the embedded Runtime stays nil.
type weightsTokenizer struct {
	runtimes.Runtime
	w *model.Weights
}

func (t weightsTokenizer) Tokenizer() (*tokenizer.Tokenizer, error) { return t.w.Tokenizer() }

type compareEmbeddingOptions struct {
	diagFlags
	prompt promptFlags
}

func newCompareEmbeddingCommand(a *app) *cobra.Command {
	var o compareEmbeddingOptions
	cmd := &cobra.Command{
		Use:   "compare-embedding --a M --b M [--prompt TEXT | --tokens IDS]",
		Short: "Compare the token embedding tables, and the rows a prompt reads",
		Long: `compare-embedding compares token_embd of A and B: shape, encoding and bytes, else the
dequantized max |diff|, RMS difference and NMSE, and which rows differ. With a prompt
(tokenized by A's tokenizer) or token ids it then shows, per prompt token, both rows'
statistics (n, mean, population std, min, max) and their largest difference, and the
verdict covers those rows only: identical < 1e-6 ≤ quantization rounding < 1e-3 ≤
suspicious < 1e-1 ≤ defect (on the largest absolute difference).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runCompareEmbedding(a, o) },
	}
	o.diagFlags.register(cmd)
	o.prompt.register(cmd.Flags())
	return cmd
}

func runCompareEmbedding(a *app, o compareEmbeddingOptions) error {
	wa, wb, err := o.open()
	if err != nil {
		return err
	}
	defer wa.Close()
	defer wb.Close()
	var ids []int32
	if o.prompt.prompt != "" || o.prompt.tokens != "" {
		if ids, err = o.prompt.resolve(weightsTokenizer{w: wa}); err != nil {
			return err
		}
	}
	res, err := diag.CompareEmbedding(wa, wb, ids)
	if err != nil {
		return err
	}
	return o.output(a, "compare-embedding", res, res.Verdict, false)
}

type compareWeightsOptions struct {
	diagFlags
	verbose bool
}

func newCompareWeightsCommand(a *app) *cobra.Command {
	var o compareWeightsOptions
	cmd := &cobra.Command{
		Use:   "compare-weights --a M --b M",
		Short: "Compare every tensor of two model files, across formats and encodings",
		Long: `compare-weights pairs every tensor of A with B's through the GGUF ↔ Hugging Face name
map (2-D shapes compared in ggml order, so APR's reversed [out, in] pairs as equal) and
judges each pair: bit-identical, equal after dequant, within quantization noise (NMSE
within the two encodings' budgets, which it names), or a layout trap — rope permutation
(llama.cpp's q/k permute of attn_q/attn_k), transposed, reshaped — before different.
Tensors without a counterpart are listed.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runCompareWeights(a, o) },
	}
	o.diagFlags.register(cmd)
	cmd.Flags().BoolVarP(&o.verbose, "verbose", "v", false, "list every pair, not only those that are not bit-identical")
	return cmd
}

func runCompareWeights(a *app, o compareWeightsOptions) error {
	wa, wb, err := o.open()
	if err != nil {
		return err
	}
	defer wa.Close()
	defer wb.Close()
	res, err := diag.CompareWeights(wa, wb)
	if err != nil {
		return err
	}
	return o.output(a, "compare-weights", res, res.Verdict, o.verbose)
}

type compareOpOptions struct {
	diagFlags
	prompt           promptFlags
	op, slot         string
	layer, threads   int
	engineA, engineB string
	trace            string
}

func newCompareOpCommand(a *app) *cobra.Command {
	var o compareOpOptions
	cmd := &cobra.Command{
		Use:   "compare-op --a M --b M (--op OP | --slot S) --layer L (--prompt TEXT | --tokens IDS | --a-trace T)",
		Short: "Replay one operation in two engines on the same input and compare",
		Long: `compare-op takes the real input of one operation at one layer from engine A — a
full-capture run of A over the prompt, or a trace recorded with --full — and has A's
and B's implementations each compute the op from those identical values, so the
difference is the op's own, not drift inherited from earlier layers. It reports the
relative difference ‖b−a‖/‖a‖ with a per-position table (max |diff|, relative
difference, both sides' std): bit-identical, rounding < 1e-7 ≤ accumulation order <
1e-4 ≤ activation quantization (matmuls of the gguf engine) or suspicious < 1e-2 ≤ defect.

--op maps to slots: rmsnorm → attn_norm, rope → q_rope and k_rope, attention → attn_ctx,
softmax → attn_ctx (the softmax has no slot of its own), matmul → q, swiglu → ffn_swiglu.
--slot replays any per-layer slot instead (e.g. ffn_out for the down projection).
Each engine defaults to the one of its file's format.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCompareOp(cmd, a, o) },
	}
	o.diagFlags.register(cmd)
	o.prompt.register(cmd.Flags())
	registerCompareOpFlags(cmd.Flags(), &o)
	cmd.MarkFlagRequired("layer")
	return cmd
}

func registerCompareOpFlags(f *pflag.FlagSet, o *compareOpOptions) {
	engines := strings.Join(diag.Engines, "|")
	f.StringVar(&o.op, "op", "", "operation: "+strings.Join(diag.Ops(), ", "))
	f.StringVar(&o.slot, "slot", "", "replay this slot's operation instead of --op's (any per-layer slot)")
	f.IntVar(&o.layer, "layer", 0, "layer index")
	f.StringVar(&o.engineA, "a-engine", "", "engine replaying A's op: "+engines+" (default: A's file format)")
	f.StringVar(&o.engineB, "b-engine", "", "engine replaying B's op: "+engines+" (default: B's file format)")
	f.StringVar(&o.trace, "a-trace", "", "take the inputs from this trace of A (recorded with --full) instead of running A")
	f.IntVar(&o.threads, "threads", 0, "matmul threads (0: all cores); results do not depend on it")
}

func runCompareOp(cmd *cobra.Command, a *app, o compareOpOptions) error {
	opts := diag.OpOptions{Op: o.op, Layer: o.layer, EngineA: o.engineA, EngineB: o.engineB, Threads: o.threads}
	switch {
	case (o.op == "") == (o.slot == ""):
		return usageErr(errors.New("give --op or --slot (one of them)"))
	case o.slot != "":
		s, ok := probes.SlotByName(o.slot)
		if !ok {
			return usageErr(fmt.Errorf("unknown slot %q", o.slot))
		}
		opts.Slot = s
	default:
		if _, _, err := diag.OpSlots(o.op); err != nil {
			return usageErr(err)
		}
	}
	wa, wb, err := o.open()
	if err != nil {
		return err
	}
	defer wa.Close()
	defer wb.Close()
	if o.prompt.prompt != "" || o.prompt.tokens != "" || o.trace == "" {
		if opts.Tokens, err = o.prompt.resolve(weightsTokenizer{w: wa}); err != nil {
			return err
		}
	}
	if o.trace != "" {
		if opts.Trace, err = probes.ReadFile(o.trace); err != nil {
			return err
		}
		opts.TraceName = o.trace
	}
	res, err := diag.CompareOp(cmd.Context(), wa, wb, opts)
	if err != nil {
		return err
	}
	return o.output(a, "compare-op", res, res.Verdict, false)
}
