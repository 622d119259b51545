package apr

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic, every
// error must be a *FormatError with a sentinel category, and whatever parses must be internally
// consistent: every tensor view has its declared size, and writing the
// parsed file is a fixed point (write → parse → write gives the same bytes).
func FuzzParse(f *testing.F) {
	model := writeModel(f, sampleMetadata(f), sampleTensors())
	f.Add(model)
	f.Add(writeModel(f, Metadata{ModelType: "linear_regression", Name: new("golden-v2")},
		[]spec{{"bias", F32, []int64{1}, f32Bytes(0.125)}}))
	md := `{"model_type":"transformer_lm","num_hidden_layers":2,"context_length":8,"license":null}`
	data := append(pad64(f32Bytes(1, 2, 3, 4)), QuantizeAPRQ4([]float32{1, 2, 3})...)
	f.Add(rawFile(md, []rawEntry{
		{name: "a", dt: 0, dims: []uint64{4}, off: 64, size: 16},
		{name: "b", dt: 8, dims: []uint64{3}, off: 0, size: 18},
	}, append(pad64(QuantizeAPRQ4([]float32{1, 2, 3})), f32Bytes(1, 2, 3, 4)...), rawOpts{unpadded: true, noCRC: true}))
	f.Add(rawFile(md, []rawEntry{{name: "a", dt: 0, dims: []uint64{4}, size: 16}}, data, rawOpts{magic: "APR2"}))
	// Unchecksummed copies of the sample let the fuzzer mutate structure
	// without first having to forge CRCs.
	noCRC := bytes.Clone(model[:len(model)-footerSize])
	for i := 40; i < 44; i++ {
		noCRC[i] = 0
	}
	f.Add(noCRC)
	f.Add(model[:HeaderSize])

	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			if fe, ok := errors.AsType[*FormatError](err); !ok || fe.Err == nil {
				t.Fatalf("error %v (%T) is not a categorized *FormatError", err, err)
			}
			return
		}
		w := NewWriter(file.Metadata)
		for i := range file.Tensors {
			ti := &file.Tensors[i]
			d := file.TensorData(ti)
			if int64(len(d)) != ti.Size {
				t.Fatalf("tensor %q: view of %d bytes, size %d", ti.Name, len(d), ti.Size)
			}
			if got, ok := file.Tensor(ti.Name); !ok || got != ti {
				t.Fatalf("lookup of %q failed", ti.Name)
			}
			w.AddTensor(ti.Name, ti.DType, ti.Shape, d)
		}
		var first bytes.Buffer
		if _, err := w.WriteTo(&first); err != nil {
			t.Fatalf("parsed file does not write back: %v", err)
		}
		again, err := Parse(first.Bytes())
		if err != nil {
			t.Fatalf("written file does not parse: %v", err)
		}
		w2 := NewWriter(again.Metadata)
		for i := range again.Tensors {
			ti := &again.Tensors[i]
			w2.AddTensor(ti.Name, ti.DType, ti.Shape, again.TensorData(ti))
		}
		var second bytes.Buffer
		if _, err := w2.WriteTo(&second); err != nil || !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("write → parse → write is not a fixed point (err %v)", err)
		}
	})
}
