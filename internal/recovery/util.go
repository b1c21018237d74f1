package recovery

import (
	"bytes"
	"encoding/json"
)

// compact returns p without insignificant white space, or an error when p
// is not JSON.
func compact(p []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
