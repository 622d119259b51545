package reports

import (
	"encoding/json"
	"io"
)

// JSON writes d as indented JSON in the schema the package doc describes.
// encoding/json's HTML escaping stays on: <, > and & in strings are
// written as \u003c, \u003e and \u0026, so the file is inert even when a
// page embeds it.
func JSON(w io.Writer, d *Document) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}
