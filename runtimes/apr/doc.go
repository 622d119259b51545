// Package apr reads and writes APR v2 model files, the container used by
// aprender and realizar (paiml). It is the format only: header, JSON metadata,
// tensor index, raw tensor payloads, checksums, plus the two APR-native block
// codecs (APR-Q4, APR-Q8) that no other package knows. It must not import any
// project package but runtimes/ggml, must not interpret tensor names or model
// architectures (runtimes/model does that) and must not dequantize ggml block
// types (runtimes/quant does that).
//
// # Reading
//
// Open maps the file read-only (falling back to reading it) and Parse takes
// bytes already in memory; both validate the whole structure before returning,
// so TensorData can hand out zero-copy views without further checks. A hostile
// file yields a *FormatError carrying the byte offset of the problem and one
// sentinel category (ErrLayout, ErrBadEntry, ErrHeaderChecksum, ...) for
// errors.Is — never a panic, and never an allocation larger than a small
// multiple of the file: counts and lengths are checked against the bytes
// that remain before anything is allocated for them.
//
// # Writing
//
// Writer produces files that aprender's strict reader and realizar both
// accept: magic "APR\0", version 2.0, flags LAYOUT_ROW_MAJOR, index sorted by
// name, 64-byte aligned sections, header and footer CRC32, canonical metadata
// keys in serde's order. Output is a pure function of the metadata and tensors
// added, so writing the same model twice yields identical bytes.
//
// # File layout
//
// All integers are little-endian. A file is five regions; only the header's
// offsets locate them, because realizar's own writer does not pad the index:
//
//	0                 header, 64 bytes
//	metadata_offset   JSON object, metadata_size bytes (aprender pads to 64 with zeros)
//	index_offset      tensor_count index entries, back to back (padded to 64)
//	data_offset       tensor payloads, each at data_offset+entry.offset (64-aligned, zero-padded)
//	EOF-4             footer CRC32 of every byte before it (absent when the header CRC is 0)
//
// The header:
//
//	off size field
//	  0    4 magic          "APR\0" (aprender) or "APR2" (accepted by realizar);
//	                        "APR1"/"APRN" are the v1 family, refused with ErrV1
//	  4    1 major          2
//	  5    1 minor          0 (other minors are read; nothing depends on them)
//	  6    2 flags          see Flags; aprender writers set 0x0400 (row-major)
//	  8    4 tensor_count
//	 12    8 metadata_offset  64 in every known file
//	 20    4 metadata_size    unpadded JSON length
//	 24    8 index_offset     64 + align64(metadata_size) from aprender
//	 32    8 data_offset      index_offset + align64(index length) from aprender
//	 40    4 checksum       CRC32/IEEE of bytes 0..40 ‖ 44..64; 0 = not checksummed
//	 44   20 reserved       zeros (covered by the checksum)
//
// A zero header checksum is how realizar's writer marks a file without
// checksums; such files also have no footer, so the footer is present exactly
// when the header checksum is non-zero. Both CRCs are verified when present.
//
// An index entry is variable-length (2 + name_len + 1 + 1 + 8·ndim + 16 bytes):
//
//	u16 name_len, name (UTF-8, 1..256 bytes), u8 dtype, u8 ndim (1..8),
//	ndim × u64 dims (outermost first: a weight matrix is [out, in]),
//	u64 offset (relative to data_offset), u64 size (exact payload bytes)
//
// Entries are sorted by name, byte-wise; aprender's reader refuses an unsorted
// index and so does this one. The payload order in the data section is not
// tied to the index order (aprender's streaming writer keeps insertion order),
// so payloads are located by offset alone; they may not overlap each other or
// leave the data section.
//
// # Dtypes
//
// Index dtype bytes 0..31 are ggml type ids; APR-native types sit at 128+ so
// they cannot be mistaken for ggml ones. The types aprender's enum and this
// package share are F32 (0), F16 (1), Q4_K (12), Q6_K (14), BF16 (30),
// APR-Q4 (128) and APR-Q8 (129). The aprender extensions F64/I32/I64/I8/U8
// (3..7) collide with ggml Q4_1/Q5_0/Q5_1 ids that realizar decodes instead,
// so their meaning depends on the reader: they are refused. Bytes 8 and 9 are
// the pre-GH-438 spellings of APR-Q4/APR-Q8, which realizar may read as ggml
// Q8_0/Q8_1; the two readings have different payload sizes, so the reader
// accepts them only when the size proves the APR meaning and reports them as
// APRQ4/APRQ8. The writer never emits 2..9.
//
// Payload sizes are exact: n elements of F32 take 4n bytes, F16/BF16 2n,
// Q4_K/Q6_K take one 144/210-byte super-block per started 256 elements of each
// row (aprender pads rows of the innermost dimension; ggml-sourced rows are
// already multiples of 256), APR-Q4 18 bytes per started 32 elements of the
// flattened tensor, APR-Q8 4+n bytes. See blocks.go for the APR codecs.
//
// # Metadata
//
// The JSON object is aprender's AprV2Metadata serialized by serde_json: the
// typed fields in declaration order (Metadata lists them), then the custom
// keys flattened into the same object. The current writer omits unset
// optional fields except license, data_source and data_license, which it
// writes as null; older writers spelled every unset field as null. Readers see
// no difference. realizar reads several dimension keys under HF/GGUF aliases
// (num_hidden_layers for num_layers, ...) and fails on a file holding both a
// canonical key and its alias, even a null one; this package reads the
// aliases and writes only canonical names. Custom keys written by
// `apr import` carry the tokenizer (tokenizer.vocabulary, tokenizer.merges,
// tokenizer.scores, ...), see Tokenizer.
package apr
