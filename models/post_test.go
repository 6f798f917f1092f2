package models

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestRawReadsBackWhatWasStored: raw stored and read back, from either
// driver's form (SQLite text, PostgreSQL bytes), is what was stored; no
// raw reads back as none, whatever the destination held before.
func TestRawReadsBackWhatWasStored(t *testing.T) {
	some := Raw{"io.pnut.core.crosspost": {json.RawMessage(`{"canonical_url":"https://example.com/1"}`)}}
	for _, stored := range []Raw{nil, {}, some} {
		v, err := stored.Value()
		if err != nil {
			t.Fatal(err)
		}
		text := v.(string)
		for _, src := range []any{text, []byte(text)} {
			got := Raw{"left over": nil}
			if err := got.Scan(src); err != nil {
				t.Fatal(err)
			}
			if len(stored) == 0 && len(got) != 0 || len(stored) > 0 && !reflect.DeepEqual(got, stored) {
				t.Fatalf("stored %v as %q (%T), read back %v", stored, text, src, got)
			}
		}
	}
	var r Raw
	if err := r.Scan("{not json"); err == nil {
		t.Fatal("broken raw read without an error")
	}
}
