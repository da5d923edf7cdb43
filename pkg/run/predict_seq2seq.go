package run

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
)

// seq2seqSource is one source text to decode and where it came from.
type seq2seqSource struct {
	where, text string
}

// predictSeq2Seq decodes every source of the input file with the run's
// model: greedy, or beam search of width opt.Beam, with the run's
// eval.length_penalty and eval.max_length.
func predictSeq2Seq(s *setup, meta data.Meta, opt PredictOptions) ([]Prediction, error) {
	m := meta.Seq2Seq
	srcs, err := readSeq2SeqInputs(opt.Input, m, s.exp.Data)
	if err != nil {
		return nil, err
	}
	rows := make([][]float32, len(srcs))
	for i, src := range srcs {
		rows[i] = make([]float32, m.SourceLength)
		if err := m.EncodeSource(rows[i], src.text); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", data.ErrBadData, src.where, err)
		}
	}
	beam := opt.Beam
	if beam == 0 {
		beam = 1
	}
	d, err := newDecoder(s, beam)
	if err != nil {
		return nil, err
	}
	got, err := d.Decode(rows)
	if err != nil {
		return nil, err
	}
	preds := make([]Prediction, len(srcs))
	for i, src := range srcs {
		preds[i] = Prediction{Input: src.where, Source: src.text, Predicted: m.Detokenize(got[i])}
	}
	return preds, nil
}

// readSeq2SeqInputs reads the sources to decode: the run's source column
// of a .csv or .tsv file with a header (as the run's data), or else one
// source per non-empty line of a text file.
func readSeq2SeqInputs(path string, m *data.Seq2SeqMeta, d config.Data) ([]seq2seqSource, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: --input %s: no such file", config.ErrInvalid, path)
		}
		return nil, fmt.Errorf("--input %s: %w", path, err)
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	var out []seq2seqSource
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".tsv":
		comma := ','
		if strings.EqualFold(filepath.Ext(path), ".tsv") {
			comma = '\t'
		}
		r := csv.NewReader(bytes.NewReader(raw))
		r.Comma, r.FieldsPerRecord, r.LazyQuotes = comma, -1, comma == '\t'
		col := -1
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%w: --input %s: %v", data.ErrBadData, path, err)
			}
			line, _ := r.FieldPos(0)
			if col < 0 {
				for i, h := range rec {
					if strings.TrimSpace(h) == m.SourceColumn {
						col = i
					}
				}
				if col < 0 {
					return nil, fmt.Errorf("%w: %s:%d: no column %q (the run's data.source_column) in the header %q",
						data.ErrBadData, path, line, m.SourceColumn, strings.Join(rec, string(comma)))
				}
				continue
			}
			if col >= len(rec) {
				return nil, fmt.Errorf("%w: %s:%d: the row has %d fields; the source column %q is field %d", data.ErrBadData, path, line, len(rec), m.SourceColumn, col+1)
			}
			out = append(out, seq2seqSource{fmt.Sprintf("%s:%d", path, line), rec[col]})
		}
	default:
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(make([]byte, 64*1024), 16<<20)
		for line := 1; sc.Scan(); line++ {
			if t := strings.TrimRight(sc.Text(), "\r"); strings.TrimSpace(t) != "" {
				out = append(out, seq2seqSource{fmt.Sprintf("%s:%d", path, line), t})
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("--input %s: %w", path, err)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: --input %s holds no source text to decode", data.ErrBadData, path)
	}
	return out, nil
}

// writeSeq2SeqCSV writes decoded targets: the input's place, the source
// and the decoded target.
func writeSeq2SeqCSV(w io.Writer, preds []Prediction) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"input", "source", "predicted"}); err != nil {
		return err
	}
	for _, p := range preds {
		if err := cw.Write([]string{p.Input, p.Source, p.Predicted}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
