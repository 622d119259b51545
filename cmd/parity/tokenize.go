package main

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/layerwise/parity/reports"
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
		Use:   "tokenize --model M --prompt TEXT",
		Short: "Print the token ids and pieces the model's tokenizer makes of a prompt",
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
	if o.prompt.tokens != "" || o.prompt.prompt == "" {
		return usageErr(fmt.Errorf("tokenize takes --prompt TEXT"))
	}
	if ids, err = tok.Encode(o.prompt.prompt, !o.prompt.noSpecial, o.prompt.parseSpecial); err != nil {
		return err
	}
	toks := make([]tokenJSON, len(ids))
	for i, id := range ids {
		toks[i] = tokenJSON{id, tok.Piece(id)}
	}
	if o.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(toks)
	}
	t := reports.NewTable(a.stdout, []string{"#", "id", "piece"}, 0, 1)
	for i, tk := range toks {
		t.Append(strconv.Itoa(i), strconv.Itoa(int(tk.ID)), strconv.Quote(tk.Piece))
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%d tokens: %v\n", len(ids), ids)
	return nil
}
