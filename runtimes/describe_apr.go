package runtimes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/layerwise/parity/runtimes/apr"
	"github.com/layerwise/parity/runtimes/model"
)

// describeAPRFile opens an APR file and describes it like describeGGUF: the
// same summary rows where the formats share a notion, the APR-specific ones
// (model type, flags, original format) besides, and the tensors with their
// shapes as stored ([out, in]).
func describeAPRFile(path string, allKV bool) (*Description, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	f, err := apr.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return describeAPR(path, st.Size(), f, allKV), nil
}

func describeAPR(path string, size int64, f *apr.File, allKV bool) *Description {
	md := &f.Metadata
	d := &Description{Path: path, Format: FormatAPR, Version: fmt.Sprintf("%d.%d", f.Header.Major, f.Header.Minor), Size: size}
	add := func(k, v string) { d.Summary = append(d.Summary, Field{k, v}) }
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	add("architecture", orNone(str(md.Architecture)))
	add("model type", orNone(md.ModelType))
	if md.Name != nil {
		add("name", *md.Name)
	}
	if md.OriginalFormat != nil {
		add("original format", *md.OriginalFormat)
	}
	add("flags", f.Header.Flags.String())
	cfg, err := model.ConfigFromAPR(f)
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
	} else {
		d.Config = cfg
		describeConfig(cfg, add)
		if err := cfg.Validate(); err != nil {
			d.Problems = append(d.Problems, err.Error())
		}
		if md.RopeType != nil && *md.RopeType != uint32(cfg.Arch.Rope) {
			d.Problems = append(d.Problems, fmt.Sprintf("metadata rope_type %d disagrees with %s's %s RoPE; parity follows the architecture, realizar may follow the file",
				*md.RopeType, cfg.Arch.Name, cfg.Arch.Rope))
		}
	}
	tok, err := md.Tokenizer()
	switch {
	case err != nil:
		d.Problems = append(d.Problems, err.Error())
	case tok == nil:
		add("tokenizer", "(none)")
	default:
		add("tokenizer", orNone(tok.Model))
		if tok.PreType != "" {
			add("tokenizer pre", tok.PreType)
		}
		add("tokenizer vocab", strconv.Itoa(len(tok.Vocabulary)))
		for _, id := range []struct {
			k string
			v *int
		}{{"bos", tok.BOSTokenID}, {"eos", tok.EOSTokenID}} {
			if id.v != nil {
				add(id.k, strconv.Itoa(*id.v))
			}
		}
	}
	var total int64
	for i := range f.Tensors {
		t := &f.Tensors[i]
		total += t.Size
		d.Tensors = append(d.Tensors, TensorRow{Name: t.Name, DType: t.DType.String(), Shape: t.Shape,
			Bytes: t.Size, Offset: int64(f.Header.DataOffset) + t.Offset})
	}
	add("tensors", fmt.Sprintf("%d (%s)", len(f.Tensors), dtypeCensus(d.Tensors)))
	add("tensor bytes", strconv.FormatInt(total, 10))
	if allKV {
		kv, err := metadataFields(f.MetadataJSON)
		if err != nil {
			d.Problems = append(d.Problems, err.Error())
		}
		d.KV = kv
	}
	return d
}

// metadataFields lists the top-level keys of the metadata JSON in file
// order, each value abbreviated the way the GGUF listing abbreviates long
// arrays: the first few elements and a count.
func metadataFields(raw []byte) ([]Field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // the opening brace
		return nil, fmt.Errorf("runtimes: APR metadata: %w", err)
	}
	var out []Field
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return out, fmt.Errorf("runtimes: APR metadata: %w", err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return out, fmt.Errorf("runtimes: APR metadata: %w", err)
		}
		out = append(out, Field{fmt.Sprint(k), abbreviate(v)})
	}
	return out, nil
}

func abbreviate(v json.RawMessage) string {
	const maxLen, show = 80, 6
	switch {
	case len(v) > 0 && v[0] == '[':
		var elems []json.RawMessage
		if json.Unmarshal(v, &elems) != nil || len(elems) <= show {
			break
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "[%d values: ", len(elems))
		for i, e := range elems[:show] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.Write(e)
		}
		b.WriteString(", …]")
		if b.Len() <= 2*maxLen {
			return b.String()
		}
		return fmt.Sprintf("[%d values]", len(elems))
	case len(v) > 0 && v[0] == '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(v, &m) == nil && len(v) > maxLen {
			return fmt.Sprintf("{%d keys}", len(m))
		}
	}
	if len(v) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		return string(v[:cut]) + "…"
	}
	return string(v)
}
