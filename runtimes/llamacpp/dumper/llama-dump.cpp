// llama-dump: parity's full-tensor dumper for llama.cpp.
//
// It runs token ids through a GGUF model with llama.cpp's public API and
// writes every graph node whose name matches a filter, whole, through the
// scheduler's eval callback (llama_context_params.cb_eval), in the format
// runtimes/llamacpp reads (see ../dump.go and shared/llamacpp/README.md):
//
//   DIR/index.tsv             seq step name op type ne0 ne1 ne2 ne3 file sum sum_abs min max n_nan
//   DIR/sSSS-NNNNN-NAME.npy   the node as little-endian float32, shape [ne3, ne2, ne1, ne0]
//                             with leading 1-dims dropped (NAME: [A-Za-z0-9_.-], others '_')
//   DIR/logits-stepSSS.npy    [n_outputs, n_vocab]: the logits llama_decode returned
//   DIR/tokens.txt            "prompt: id id ..." then "gen step N: id 'piece'"
//   DIR/ABOUT.txt             model, mode, tokens, steps, flags
//   DIR/run.log               llama.cpp's own log
//
// Step 0 decodes the prompt as one batch (one ubatch); each step n >= 1
// decodes one token: the argmax of the previous step's last logits (ties
// to the lowest id, as llama.cpp's greedy sampler), or the n-th --force id.
// Without --force, decoding stops after producing a --stop id.
//
// Modes: "exact" is -fa off -ctk f32 -ctv f32 plus logits for every prompt
// position, the only f32-exact attention of llama.cpp; "default" keeps
// llama.cpp's defaults (flash attention auto, f16 KV cache, last-position
// logits only).
//
// Views and permutes are read through their strides nb, so a node yields
// its logical tensor; f16, bf16, integer and quantized node outputs are
// converted to f32 (quantized rows with ggml's to_float). The callback only
// reads: asking for a node or not leaves the computed values unchanged.
//
// Build: make llama-dump LLAMA_CPP_DIR=/path/to/llama.cpp (an existing
// CMake build; nothing is downloaded). Uses only llama.h, ggml.h and
// ggml-backend.h.

#include "ggml-backend.h"
#include "ggml.h"
#include "llama.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

struct options {
    std::string model, out, mode = "exact", filter = ".*";
    std::vector<llama_token> prompt, force, stop;
    int n_gen = 0, threads = 0, ngl = 0;
    bool no_repack = false;
};

void usage(const char * argv0) {
    fprintf(stderr,
            "usage: %s -m MODEL.gguf -o DIR --tokens ID,ID,... [-n STEPS] [--mode exact|default]\n"
            "          [--filter REGEX] [--force ID,...] [--stop ID,...] [-t THREADS] [-ngl N] [--no-repack]\n"
            "Writes every graph node matching REGEX (std::regex_search) to DIR as .npy, with index.tsv,\n"
            "logits-stepSSS.npy, tokens.txt and ABOUT.txt. DIR must exist.\n",
            argv0);
}

bool parse_ids(const char * s, std::vector<llama_token> & out) {
    out.clear();
    while (*s) {
        char * end = nullptr;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno != 0 || v < 0 || v > INT32_MAX) {
            return false;
        }
        out.push_back((llama_token) v);
        s = end;
        if (*s == ',') {
            s++;
        } else if (*s) {
            return false;
        }
    }
    return true;
}

bool parse_int(const char * s, int & out) {
    char * end = nullptr;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno != 0 || v < 0 || v > INT32_MAX) {
        return false;
    }
    out = (int) v;
    return true;
}

bool parse_args(int argc, char ** argv, options & o) {
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--no-repack") {
            o.no_repack = true;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "llama-dump: %s needs a value\n", a.c_str());
            return false;
        }
        const char * v = argv[++i];
        bool ok = true;
        if (a == "-m") {
            o.model = v;
        } else if (a == "-o") {
            o.out = v;
        } else if (a == "--tokens") {
            ok = parse_ids(v, o.prompt) && !o.prompt.empty();
        } else if (a == "--force") {
            ok = parse_ids(v, o.force);
        } else if (a == "--stop") {
            ok = parse_ids(v, o.stop);
        } else if (a == "-n") {
            ok = parse_int(v, o.n_gen);
        } else if (a == "-t") {
            ok = parse_int(v, o.threads);
        } else if (a == "-ngl") {
            ok = parse_int(v, o.ngl);
        } else if (a == "--mode") {
            o.mode = v;
            ok = o.mode == "exact" || o.mode == "default";
        } else if (a == "--filter") {
            o.filter = v;
        } else {
            fprintf(stderr, "llama-dump: unknown option %s\n", a.c_str());
            return false;
        }
        if (!ok) {
            fprintf(stderr, "llama-dump: bad value %s for %s\n", v, a.c_str());
            return false;
        }
    }
    if (o.model.empty() || o.out.empty() || o.prompt.empty()) {
        fprintf(stderr, "llama-dump: -m, -o and --tokens are required\n");
        return false;
    }
    if (!o.force.empty() && (int) o.force.size() < o.n_gen) {
        fprintf(stderr, "llama-dump: %zu forced ids for %d steps\n", o.force.size(), o.n_gen);
        return false;
    }
    return true;
}

// npy_write writes a C-order little-endian float32 array (NumPy format 1.0,
// header padded to a multiple of 64 bytes as numpy does).
bool npy_write(const std::string & path, const std::vector<int64_t> & shape, const float * data, size_t n) {
    std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
    for (size_t i = 0; i < shape.size(); i++) {
        dict += std::to_string(shape[i]);
        dict += shape.size() == 1 ? "," : (i + 1 < shape.size() ? ", " : "");
    }
    dict += "), }";
    size_t total = 10 + dict.size() + 1;
    dict.append((64 - total % 64) % 64, ' ');
    dict += '\n';
    FILE * f = fopen(path.c_str(), "wb");
    if (!f) {
        return false;
    }
    const uint16_t hlen = (uint16_t) dict.size();
    const unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char) (hlen & 0xff), (unsigned char) (hlen >> 8) };
    bool ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict.data(), 1, dict.size(), f) == dict.size() &&
              fwrite(data, sizeof(float), n, f) == n;
    return fclose(f) == 0 && ok;
}

// element converts one element of a non-quantized type to f32.
bool element(const uint8_t * p, ggml_type type, float & v) {
    switch (type) {
        case GGML_TYPE_F32: memcpy(&v, p, 4); return true;
        case GGML_TYPE_F16: v = ggml_fp16_to_fp32(*(const ggml_fp16_t *) p); return true;
        case GGML_TYPE_BF16: v = ggml_bf16_to_fp32(*(const ggml_bf16_t *) p); return true;
        case GGML_TYPE_I8: v = (float) *(const int8_t *) p; return true;
        case GGML_TYPE_I16: v = (float) *(const int16_t *) p; return true;
        case GGML_TYPE_I32: v = (float) *(const int32_t *) p; return true;
        case GGML_TYPE_I64: v = (float) *(const int64_t *) p; return true;
        case GGML_TYPE_F64: v = (float) *(const double *) p; return true;
        default: return false;
    }
}

struct dumper {
    std::regex  filter;
    std::string dir;
    FILE *      index = nullptr;
    int         step  = 0;
    int64_t     seq   = 0;
    std::string error;
    std::vector<uint8_t> raw;
    std::vector<float>   f32;

    // read converts t to f32 in logical (i0 fastest) order.
    bool read(const ggml_tensor * t) {
        const int64_t * ne = t->ne;
        const size_t *  nb = t->nb;
        const int64_t   n  = ggml_nelements(t);
        const uint8_t * base;
        if (t->buffer && !ggml_backend_buffer_is_host(t->buffer)) {
            raw.resize(ggml_nbytes(t));
            ggml_backend_tensor_get(t, raw.data(), 0, raw.size());
            base = raw.data();
        } else {
            base = (const uint8_t *) t->data;
        }
        f32.resize((size_t) n);
        float * out = f32.data();
        const ggml_type_traits * tt = ggml_get_type_traits(t->type);
        for (int64_t i3 = 0; i3 < ne[3]; i3++) {
            for (int64_t i2 = 0; i2 < ne[2]; i2++) {
                for (int64_t i1 = 0; i1 < ne[1]; i1++) {
                    const uint8_t * row = base + i1 * nb[1] + i2 * nb[2] + i3 * nb[3];
                    if (ggml_is_quantized(t->type)) {
                        // A quantized row is contiguous blocks; views select whole rows.
                        if (!tt->to_float) {
                            return false;
                        }
                        tt->to_float(row, out, ne[0]);
                        out += ne[0];
                        continue;
                    }
                    for (int64_t i0 = 0; i0 < ne[0]; i0++) {
                        if (!element(row + i0 * nb[0], t->type, *out++)) {
                            return false;
                        }
                    }
                }
            }
        }
        return true;
    }

    bool write(ggml_tensor * t) {
        std::string name = t->name;
        for (char & c : name) {
            if (c == '\t' || c == '\n' || c == '\r') {
                c = ' ';
            }
        }
        std::string safe = name;
        for (char & c : safe) {
            if (!(isalnum((unsigned char) c) || c == '_' || c == '-' || c == '.')) {
                c = '_';
            }
        }
        char file[256];
        snprintf(file, sizeof(file), "s%03d-%05" PRId64 "-%s.npy", step, seq, safe.c_str());
        double sum = 0, sum_abs = 0;
        float  mn = NAN, mx = NAN;
        int64_t n_nan = 0;
        const bool ok = read(t);
        if (ok) {
            for (float v : f32) {
                sum += v;
                sum_abs += fabs((double) v);
                if (std::isnan(v)) {
                    n_nan++;
                } else {
                    mn = std::isnan(mn) || v < mn ? v : mn;
                    mx = std::isnan(mx) || v > mx ? v : mx;
                }
            }
            std::vector<int64_t> shape;
            for (int d = 3; d >= 0; d--) {
                if (!shape.empty() || t->ne[d] != 1 || d == 0) {
                    shape.push_back(t->ne[d]);
                }
            }
            if (!npy_write(dir + "/" + file, shape, f32.data(), f32.size())) {
                error = "writing " + dir + "/" + file + ": " + strerror(errno);
                return false;
            }
        } else {
            // A type without a conversion to f32: indexed, not written.
            snprintf(file, sizeof(file), "-");
            sum = sum_abs = NAN;
        }
        fprintf(index, "%" PRId64 "\t%d\t%s\t%s\t%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64
                       "\t%s\t%.17g\t%.17g\t%.9g\t%.9g\t%" PRId64 "\n",
                seq, step, name.c_str(), ggml_op_desc(t), ggml_type_name(t->type), t->ne[0], t->ne[1], t->ne[2],
                t->ne[3], file, sum, sum_abs, (double) mn, (double) mx, n_nan);
        seq++;
        return true;
    }
};

// eval_cb asks for the nodes whose names match the filter and writes them
// when their data is ready. Returning false from a data call cancels the
// graph compute, which llama_decode reports.
bool eval_cb(ggml_tensor * t, bool ask, void * user_data) {
    auto * d      = (dumper *) user_data;
    bool   wanted = std::regex_search(t->name, d->filter);
    if (ask) {
        return wanted;
    }
    return !wanted || d->write(t);
}

FILE * g_log        = nullptr;
int    g_last_level = GGML_LOG_LEVEL_INFO;

// log_cb sends llama.cpp's log to run.log, warnings and errors also to
// stderr (where the caller shows them when the run fails).
void log_cb(ggml_log_level level, const char * text, void *) {
    if (level != GGML_LOG_LEVEL_CONT) {
        g_last_level = level;
    }
    if (g_log) {
        fputs(text, g_log);
    }
    if (!g_log || g_last_level == GGML_LOG_LEVEL_WARN || g_last_level == GGML_LOG_LEVEL_ERROR) {
        fputs(text, stderr);
    }
}

bool write_logits(llama_context * ctx, const dumper & d, const std::vector<int32_t> & rows, int n_vocab,
                  std::vector<float> & last) {
    std::vector<float> all;
    for (int32_t i : rows) {
        const float * l = llama_get_logits_ith(ctx, i);
        if (!l) {
            fprintf(stderr, "llama-dump: no logits for batch row %d\n", i);
            return false;
        }
        all.insert(all.end(), l, l + n_vocab);
    }
    last.assign(all.end() - n_vocab, all.end());
    char file[64];
    snprintf(file, sizeof(file), "/logits-step%03d.npy", d.step);
    if (!npy_write(d.dir + file, { (int64_t) rows.size(), (int64_t) n_vocab }, all.data(), all.size())) {
        fprintf(stderr, "llama-dump: writing %s%s: %s\n", d.dir.c_str(), file, strerror(errno));
        return false;
    }
    return true;
}

llama_token argmax(const std::vector<float> & x) {
    size_t best = 0;
    for (size_t i = 1; i < x.size(); i++) {
        if (x[i] > x[best]) {
            best = i;
        }
    }
    return (llama_token) best;
}

// piece returns the token's text with control characters escaped, so that
// tokens.txt keeps one token per line.
std::string piece(const llama_vocab * vocab, llama_token id) {
    char buf[256];
    int  n = llama_token_to_piece(vocab, id, buf, sizeof(buf), 0, true);
    std::string out;
    for (int i = 0; i < n && i < (int) sizeof(buf); i++) {
        unsigned char c = (unsigned char) buf[i];
        if (c == '\\' || c == '\'') {
            out += '\\';
            out += (char) c;
        } else if (c < 0x20) {
            char e[8];
            snprintf(e, sizeof(e), "\\x%02x", c);
            out += e;
        } else {
            out += (char) c;
        }
    }
    return out;
}

int run(const options & o) {
    struct stat st;
    if (stat(o.out.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "llama-dump: output directory %s does not exist\n", o.out.c_str());
        return 1;
    }
    g_log = fopen((o.out + "/run.log").c_str(), "w");
    llama_log_set(log_cb, nullptr);
    ggml_backend_load_all();
    llama_backend_init();

    dumper d;
    d.dir = o.out;
    try {
        d.filter = std::regex(o.filter, std::regex::optimize);
    } catch (const std::regex_error & e) {
        fprintf(stderr, "llama-dump: bad --filter %s: %s\n", o.filter.c_str(), e.what());
        return 1;
    }

    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers       = o.ngl;
    mp.use_extra_bufts    = !o.no_repack;
    llama_model * model   = llama_model_load_from_file(o.model.c_str(), mp);
    if (!model) {
        fprintf(stderr, "llama-dump: cannot load %s (see the log above)\n", o.model.c_str());
        return 1;
    }
    const llama_vocab * vocab   = llama_model_get_vocab(model);
    const int           n_vocab = llama_vocab_n_tokens(vocab);
    for (auto ids : { &o.prompt, &o.force }) {
        for (llama_token id : *ids) {
            if (id >= n_vocab) {
                fprintf(stderr, "llama-dump: token id %d outside the vocabulary of %d\n", id, n_vocab);
                return 1;
            }
        }
    }

    const bool exact   = o.mode == "exact";
    const int  n_p     = (int) o.prompt.size();
    const int  n_batch = n_p > 512 ? n_p : 512;  // the whole prompt in one ubatch

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx             = (uint32_t) (n_p + o.n_gen > n_batch ? n_p + o.n_gen : n_batch);
    cp.n_batch           = (uint32_t) n_batch;
    cp.n_ubatch          = (uint32_t) n_batch;
    cp.cb_eval           = eval_cb;
    cp.cb_eval_user_data = &d;
    cp.no_perf           = true;
    if (o.threads > 0) {
        cp.n_threads = cp.n_threads_batch = o.threads;
    }
    if (exact) {
        cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
        cp.type_k          = GGML_TYPE_F32;
        cp.type_v          = GGML_TYPE_F32;
    }
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        fprintf(stderr, "llama-dump: cannot create a context (see the log above)\n");
        return 1;
    }

    d.index = fopen((o.out + "/index.tsv").c_str(), "w");
    FILE * tokens = fopen((o.out + "/tokens.txt").c_str(), "w");
    if (!d.index || !tokens) {
        fprintf(stderr, "llama-dump: cannot write to %s: %s\n", o.out.c_str(), strerror(errno));
        return 1;
    }
    fprintf(d.index, "seq\tstep\tname\top\ttype\tne0\tne1\tne2\tne3\tfile\tsum\tsum_abs\tmin\tmax\tn_nan\n");

    llama_batch batch = llama_batch_init(n_p, 0, 1);
    std::vector<int32_t> out_rows;
    for (int i = 0; i < n_p; i++) {
        batch.token[i]     = o.prompt[i];
        batch.pos[i]       = i;
        batch.n_seq_id[i]  = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i]    = exact || i == n_p - 1;
        if (batch.logits[i]) {
            out_rows.push_back(i);
        }
    }
    batch.n_tokens = n_p;

    std::vector<float> last;
    std::vector<llama_token> gen;
    int rc = 0;
    for (d.step = 0;; d.step++) {
        int err = llama_decode(ctx, batch);
        if (err != 0 || !d.error.empty()) {
            fprintf(stderr, "llama-dump: llama_decode failed at step %d (%d) %s\n", d.step, err, d.error.c_str());
            rc = 1;
            break;
        }
        if (!write_logits(ctx, d, out_rows, n_vocab, last)) {
            rc = 1;
            break;
        }
        const llama_token next = argmax(last);
        if (d.step == o.n_gen) {
            break;
        }
        if (o.force.empty() && std::find(o.stop.begin(), o.stop.end(), next) != o.stop.end()) {
            break;
        }
        const llama_token feed = o.force.empty() ? next : o.force[d.step];
        gen.push_back(feed);
        batch.n_tokens     = 1;
        batch.token[0]     = feed;
        batch.pos[0]       = n_p + d.step;
        batch.n_seq_id[0]  = 1;
        batch.seq_id[0][0] = 0;
        batch.logits[0]    = true;
        out_rows.assign(1, 0);
    }

    fprintf(tokens, "prompt:");
    for (llama_token id : o.prompt) {
        fprintf(tokens, " %d", id);
    }
    fprintf(tokens, "\n");
    for (size_t i = 0; i < gen.size(); i++) {
        fprintf(tokens, "gen step %zu: %d '%s'\n", i + 1, gen[i], piece(vocab, gen[i]).c_str());
    }
    std::string flags = exact ? "-fa off -ctk f32 -ctv f32 --all-logits " : " ";
    if (o.no_repack) {
        flags += "--no-repack ";
    }
    std::string ids;
    for (llama_token id : o.prompt) {
        ids += (ids.empty() ? "" : ",") + std::to_string(id);
    }
    const char * slash = strrchr(o.model.c_str(), '/');
    FILE * about = fopen((o.out + "/ABOUT.txt").c_str(), "w");
    if (about) {
        fprintf(about, "model=%s mode=%s tokens=\"%s\" n_gen=%zu flags=\"%s\" tool=\"parity llama-dump\"\n",
                slash ? slash + 1 : o.model.c_str(), o.mode.c_str(), ids.c_str(), gen.size(), flags.c_str());
    }
    if (!about || fclose(about) != 0 || fclose(tokens) != 0 || fclose(d.index) != 0) {
        fprintf(stderr, "llama-dump: writing to %s: %s\n", o.out.c_str(), strerror(errno));
        rc = 1;
    }

    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    if (g_log) {
        fclose(g_log);
    }
    return rc;
}

}  // namespace

int main(int argc, char ** argv) {
    options o;
    if (!parse_args(argc, argv, o)) {
        usage(argv[0]);
        return 2;
    }
    return run(o);
}
