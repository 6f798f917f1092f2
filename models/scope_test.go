package models

import "testing"

func TestParseScopes(t *testing.T) {
	cases := []struct {
		in, want string
		wantErr  bool
	}{
		{"", "basic", false},
		{"stream", "basic,stream", false},
		{"write_post, stream basic", "basic,stream,write_post", false},
		{"WRITE_POST,write_post", "basic,write_post", false},
		{"tokens,webhooks", "basic,webhooks,tokens", false},
		{"stream,root", "", true},
	}
	for _, tc := range cases {
		got, err := ParseScopes(tc.in)
		if tc.wantErr {
			if err == nil {
				t.Errorf("ParseScopes(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("ParseScopes(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestScopesRoundTripThroughTheDatabaseForm(t *testing.T) {
	in, _ := ParseScopes("stream,update_profile")
	v, _ := in.Value()
	var out Scopes
	if err := out.Scan([]byte(v.(string))); err != nil || out.String() != in.String() {
		t.Fatalf("round trip %q → %v → %q (%v)", in, v, out, err)
	}
	if err := out.Scan("stream,bogus"); err == nil {
		t.Fatalf("scanning an unknown scope must fail")
	}
}
