package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/layerwise/parity/runtimes"
)

type runOptions struct {
	model     string
	n         int
	ignoreEOS bool
	json      bool
	prompt    promptFlags
	engine    engineFlags
}

func newRunCommand(a *app) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run --model M (--prompt TEXT | --tokens IDS) [-n N]",
		Short: "Generate greedily with one engine and print the text and token ids",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRun(cmd, a, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.model, "model", "m", "", "model file (.gguf or .apr)")
	f.IntVarP(&o.n, "n", "n", 32, "tokens to generate")
	f.BoolVar(&o.ignoreEOS, "ignore-eos", false, "keep generating past end-of-generation tokens")
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	o.prompt.register(f)
	o.engine.register(f, "engine", "gguf")
	cmd.MarkFlagRequired("model")
	return cmd
}

type runResult struct {
	Model        string  `json:"model"`
	Engine       string  `json:"engine"`
	PromptTokens []int32 `json:"prompt_tokens"`
	Tokens       []int32 `json:"tokens"`
	Text         string  `json:"text"`
}

func runRun(cmd *cobra.Command, a *app, o runOptions) error {
	if o.n < 1 {
		return usageErr(fmt.Errorf("-n must be at least 1, not %d", o.n))
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
	tok, err := rt.Tokenizer()
	if err != nil {
		return err
	}
	req := runtimes.Request{Prompt: ids, Decode: o.n - 1}
	if !o.ignoreEOS {
		for id := int32(0); int(id) < tok.VocabSize(); id++ {
			if tok.IsEOG(id) {
				req.StopAt = append(req.StopAt, id)
			}
		}
	}
	if isTerminal(a.stderr) {
		req.Progress = func(step int) { fmt.Fprintf(a.stderr, "\rgenerating %d/%d", step+1, o.n) }
		defer fmt.Fprint(a.stderr, "\r\033[K")
	}
	res, err := rt.Run(cmd.Context(), req, nil)
	if err != nil {
		return err
	}
	text, err := tok.Decode(res.Next)
	if err != nil {
		return err
	}
	out := runResult{Model: o.model, Engine: rt.Engine(), PromptTokens: ids, Tokens: res.Next, Text: text}
	if o.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintln(a.stdout, text)
	fmt.Fprintf(a.stdout, "prompt ids: %v\ngenerated ids: %v\n", ids, res.Next)
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}
