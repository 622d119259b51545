package main

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/layerwise/parity/reports"
	"github.com/layerwise/parity/runtimes"
	"github.com/layerwise/parity/runtimes/model"
)

type tokenizeOptions struct {
	model  string
	json   bool
	prompt promptFlags
}

func newTokenizeCommand(a *app) *cobra.Command {
	var o tokenizeOptions
	cmd := &cobra.Command{
		Use:   "tokenize --model M (--prompt TEXT | --tokens IDS)",
		Short: "Print the token ids and pieces the model's tokenizer makes of a prompt (or the pieces and text of ids)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTokenize(a, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.model, "model", "m", "", "model file (.gguf or .apr)")
	f.BoolVar(&o.json, "json", false, "print ids and pieces as JSON")
	o.prompt.register(f)
	cmd.MarkFlagRequired("model")
	return cmd
}

type tokenJSON struct {
	ID    int32  `json:"id"`
	Piece string `json:"piece"`
}

type tokenizeJSON struct {
	Tokens []tokenJSON `json:"tokens"`
	Text   string      `json:"text"` // the ids decoded back to text, as llama.cpp detokenizes
}

func runTokenize(a *app, o tokenizeOptions) error {
	w, err := model.Open(o.model)
	if err != nil {
		return err
	}
	defer w.Close()
	tok, err := w.Tokenizer()
	if err != nil {
		return err
	}
	var ids []int32
	switch {
	case o.prompt.tokens != "" && o.prompt.prompt != "":
		return usageErr(fmt.Errorf("give --prompt or --tokens, not both"))
	case o.prompt.tokens != "":
		if ids, err = runtimes.ParseTokens(o.prompt.tokens); err != nil {
			return usageErr(err)
		}
		for _, id := range ids {
			if int(id) >= tok.VocabSize() {
				return usageErr(fmt.Errorf("token id %d is outside the vocabulary (0..%d)", id, tok.VocabSize()-1))
			}
		}
	case o.prompt.prompt == "":
		return usageErr(fmt.Errorf("give --prompt TEXT or --tokens IDS"))
	default:
		if ids, err = tok.Encode(o.prompt.prompt, !o.prompt.noSpecial, o.prompt.parseSpecial); err != nil {
			return err
		}
	}
	text, err := tok.Decode(ids)
	if err != nil {
		return err
	}
	toks := make([]tokenJSON, len(ids))
	for i, id := range ids {
		toks[i] = tokenJSON{id, tok.Piece(id)}
	}
	if o.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(tokenizeJSON{Tokens: toks, Text: text})
	}
	t := reports.NewTable(a.stdout, []string{"#", "id", "piece"}, 0, 1)
	for i, tk := range toks {
		t.Append(strconv.Itoa(i), strconv.Itoa(int(tk.ID)), strconv.Quote(tk.Piece))
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%d tokens: %v\ntext: %q\n", len(ids), ids, text)
	return nil
}
