package federation

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-fed/httpsig"
)

var update = flag.Bool("update", false, "rewrite the fixtures under testdata/")

var testNow = time.Date(2026, time.June, 7, 20, 51, 35, 0, time.UTC)

const (
	aliceKeyID   = "https://pecan.example/users/alice#main-key"
	testActivity = `{"@context":"https://www.w3.org/ns/activitystreams","id":"https://pecan.example/posts/1/activity","type":"Create","actor":"https://pecan.example/users/alice","object":{"id":"https://pecan.example/posts/1","type":"Note","content":"<p>hi</p>"}}`
)

// toServer sends req (with body) through the HTTP/1.1 wire format and reads
// it back as a server would see it: Host moves to r.Host, the URL is only
// path and query.
func toServer(t testing.TB, req *http.Request, body []byte) (*http.Request, []byte) {
	t.Helper()
	out := req.Clone(context.Background())
	if body != nil {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
	}
	var buf bytes.Buffer
	if err := out.Write(&buf); err != nil {
		t.Fatal(err)
	}
	sr, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(sr.Body)
	if err != nil {
		t.Fatal(err)
	}
	return sr, got
}

// lookupOf returns a KeyLookup that always answers pub and counts its calls.
func lookupOf(pub *rsa.PublicKey, calls *[]bool) KeyLookup {
	return func(_ context.Context, _ string, refresh bool) (*rsa.PublicKey, error) {
		if calls != nil {
			*calls = append(*calls, refresh)
		}
		return pub, nil
	}
}

func newRequest(t testing.TB, method, rawURL string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// signed builds a request signed by SignRequest and returns it as the server
// sees it.
func signed(t testing.TB, method, rawURL string, body []byte, key *rsa.PrivateKey, at time.Time) (*http.Request, []byte) {
	t.Helper()
	req := newRequest(t, method, rawURL)
	if err := SignRequest(req, body, aliceKeyID, key, at); err != nil {
		t.Fatal(err)
	}
	return toServer(t, req, body)
}

// handSign signs the request the way draft-cavage describes (and Mastodon's
// request.rb does), independently of go-fed: one "name: value" line per
// signed header, joined by "\n", RSA PKCS#1 v1.5 over SHA-256. target is the
// (request-target) value. algorithm "" leaves the parameter out.
func handSign(t testing.TB, req *http.Request, key *rsa.PrivateKey, keyID, algorithm, target string, headers []string) string {
	t.Helper()
	lines := make([]string, len(headers))
	for i, h := range headers {
		switch h {
		case "(request-target)":
			lines[i] = h + ": " + target
		case "host":
			lines[i] = h + ": " + req.Host
		default:
			lines[i] = h + ": " + req.Header.Get(h)
		}
	}
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	alg := ""
	if algorithm != "" {
		alg = `algorithm="` + algorithm + `",`
	}
	return fmt.Sprintf(`keyId="%s",%sheaders="%s",signature="%s"`, keyID, alg, strings.Join(headers, " "), base64.StdEncoding.EncodeToString(sig))
}

func digestOf(body []byte) string {
	sum := sha256.Sum256(body)
	return "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
}

// mastodonRequest builds a POST to Pecan's inbox as Mastodon sends it.
func mastodonRequest(t testing.TB, key *rsa.PrivateKey, body []byte, at time.Time) *http.Request {
	t.Helper()
	req := newRequest(t, http.MethodPost, "https://pecan.example/users/bob/inbox")
	req.Header.Set("Host", req.Host)
	req.Header.Set("Date", at.UTC().Format(http.TimeFormat))
	req.Header.Set("Digest", digestOf(body))
	req.Header.Set("Content-Type", "application/activity+json")
	req.Header.Set("User-Agent", "http.rb/5.2.0 (Mastodon/4.5.0; +https://mastodon.example/)")
	req.Header.Set("Signature", handSign(t, req, key, "https://mastodon.example/users/alice#main-key", "rsa-sha256",
		"post /users/bob/inbox", []string{"(request-target)", "host", "date", "digest"}))
	return req
}

var signatureRE = regexp.MustCompile(`^keyId="([^"]+)",algorithm="([^"]+)",headers="([^"]+)",signature="([A-Za-z0-9+/=]+)"$`)

func TestSignVerifyRoundTrip(t *testing.T) {
	key := testKey(t)
	body := []byte(testActivity)
	cases := []struct {
		name, method, url string
		body              []byte
		wantHeaders       string
		tamperedPath      string // another path?query: the signature must not verify for it
	}{
		{"POST", http.MethodPost, "https://pecan.example/users/bob/inbox", body, "(request-target) host date digest", "/users/eve/inbox"},
		{"POST with nil body", http.MethodPost, "https://pecan.example/inbox", nil, "(request-target) host date digest", "/users/eve/inbox"},
		{"GET", http.MethodGet, "https://pecan.example/users/alice", nil, "(request-target) host date", "/users/eve"},
		{"GET with query", http.MethodGet, "https://pecan.example/users/alice/outbox?page=true&min_id=5", nil, "(request-target) host date", "/users/alice/outbox?page=true&min_id=6"},
		{"GET with port", http.MethodGet, "http://127.0.0.1:8080/users/127.0.0.1:8080", nil, "(request-target) host date", "/users/127.0.0.1:8081"},
		{"GET escaped path", http.MethodGet, "https://pecan.example/tags/caf%C3%A9", nil, "(request-target) host date", "/tags/cafe"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := newRequest(t, c.method, c.url)
			if err := SignRequest(req, c.body, aliceKeyID, key, testNow.In(time.FixedZone("CEST", 7200))); err != nil {
				t.Fatal(err)
			}
			if got, want := req.Header.Get("Date"), "Sun, 07 Jun 2026 20:51:35 GMT"; got != want {
				t.Errorf("Date = %q, want %q", got, want)
			}
			if got := req.Header.Get("Host"); got != req.URL.Host || req.Host != req.URL.Host {
				t.Errorf("Host header %q, req.Host %q, want %q", got, req.Host, req.URL.Host)
			}
			wantDigest := ""
			if c.method == http.MethodPost {
				wantDigest = digestOf(c.body)
			}
			if got := req.Header.Get("Digest"); got != wantDigest {
				t.Errorf("Digest = %q, want %q", got, wantDigest)
			}
			m := signatureRE.FindStringSubmatch(req.Header.Get("Signature"))
			if m == nil {
				t.Fatalf("Signature header %q has an unexpected form", req.Header.Get("Signature"))
			}
			if m[1] != aliceKeyID || m[2] != "rsa-sha256" || m[3] != c.wantHeaders {
				t.Errorf("keyId=%q algorithm=%q headers=%q, want %q rsa-sha256 %q", m[1], m[2], m[3], aliceKeyID, c.wantHeaders)
			}
			// PKCS#1 v1.5 is deterministic: the header must equal a signature
			// built by hand over the escaped path and query sent on the wire.
			target := strings.ToLower(c.method) + " " + req.URL.RequestURI()
			if want := handSign(t, req, key, aliceKeyID, "rsa-sha256", target, strings.Fields(c.wantHeaders)); req.Header.Get("Signature") != want {
				t.Errorf("Signature header\n%s\nwant (over %q)\n%s", req.Header.Get("Signature"), target, want)
			}

			sr, sbody := toServer(t, req, c.body)
			before := sr.Header.Clone()
			var calls []bool
			keyID, err := VerifyRequest(context.Background(), sr, sbody, testNow, lookupOf(&key.PublicKey, &calls))
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if keyID != aliceKeyID {
				t.Errorf("keyID = %q, want %q", keyID, aliceKeyID)
			}
			if len(calls) != 1 || calls[0] {
				t.Errorf("lookup calls (refresh flags) = %v, want [false]", calls)
			}
			for k, v := range before {
				if got := sr.Header.Values(k); strings.Join(got, "\n") != strings.Join(v, "\n") {
					t.Errorf("VerifyRequest changed header %s: %q -> %q", k, v, got)
				}
			}

			// The signature covers the path and query actually sent.
			sr2, sbody2 := toServer(t, req, c.body)
			path, query, _ := strings.Cut(c.tamperedPath, "?")
			sr2.URL.Path, sr2.URL.RawPath, sr2.URL.RawQuery = path, "", query
			if _, err := VerifyRequest(context.Background(), sr2, sbody2, testNow, lookupOf(&key.PublicKey, nil)); !errors.Is(err, ErrBadSignature) {
				t.Errorf("request to %s verified (err %v), want ErrBadSignature", c.tamperedPath, err)
			}
		})
	}
}

func TestSignRequestTwice(t *testing.T) {
	// A retry signs the same request again: one Digest, one Signature, new Date.
	key := testKey(t)
	body := []byte(testActivity)
	req := newRequest(t, http.MethodPost, "https://pecan.example/users/bob/inbox")
	if err := SignRequest(req, body, aliceKeyID, key, testNow.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := SignRequest(req, body, aliceKeyID, key, testNow); err != nil {
		t.Fatalf("second signing: %v", err)
	}
	if n, m := len(req.Header.Values("Signature")), len(req.Header.Values("Digest")); n != 1 || m != 1 {
		t.Fatalf("%d Signature and %d Digest headers after re-signing, want 1 each", n, m)
	}
	sr, sbody := toServer(t, req, body)
	if _, err := VerifyRequest(context.Background(), sr, sbody, testNow, lookupOf(&key.PublicKey, nil)); err != nil {
		t.Fatal(err)
	}
}

func TestSignRequestErrors(t *testing.T) {
	key := testKey(t)
	if err := SignRequest(newRequest(t, "GET", "https://pecan.example/"), nil, aliceKeyID, nil, testNow); err == nil {
		t.Error("nil key: no error")
	}
	if err := SignRequest(newRequest(t, "GET", "/relative"), nil, aliceKeyID, key, testNow); err == nil {
		t.Error("URL without host: no error")
	}
	for _, id := range []string{"", `https://x/"a"`, "https://x/a,b"} {
		if err := SignRequest(newRequest(t, "GET", "https://pecan.example/"), nil, id, key, testNow); err == nil {
			t.Errorf("keyId %q: no error", id)
		}
	}
}

// goFedSign signs with go-fed directly and the given header list, so tests
// can produce requests SignRequest would never make.
func goFedSign(t testing.TB, req *http.Request, body []byte, headers []string, key *rsa.PrivateKey) {
	t.Helper()
	s, _, err := httpsig.NewSigner([]httpsig.Algorithm{httpsig.RSA_SHA256}, httpsig.DigestSha256, headers, httpsig.Signature, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SignRequest(key, aliceKeyID, req, body); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyRejects(t *testing.T) {
	key := testKey(t)
	body := []byte(testActivity)
	inbox := "https://pecan.example/users/bob/inbox"

	// custom signs a request to inbox with go-fed over the given headers.
	custom := func(t *testing.T, method string, b []byte, headers []string) (*http.Request, []byte) {
		req := newRequest(t, method, inbox)
		req.Header.Set("Host", req.Host)
		req.Header.Set("Date", testNow.Format(http.TimeFormat))
		goFedSign(t, req, b, headers, key)
		return toServer(t, req, b)
	}

	cases := []struct {
		name       string
		build      func(t *testing.T) (*http.Request, []byte)
		want       error
		wantLookup int // key lookups expected (refresh included)
	}{
		{"body changed after signing", func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t, "POST", inbox, body, key, testNow)
			return r, bytes.Replace(b, []byte("hi"), []byte("ho"), 1)
		}, ErrDigestMismatch, 0},
		{"Digest and body both changed", func(t *testing.T) (*http.Request, []byte) {
			r, _ := signed(t, "POST", inbox, body, key, testNow)
			b := []byte(`{"type":"Delete"}`)
			r.Header.Set("Digest", digestOf(b))
			return r, b
		}, ErrBadSignature, 2},
		{"Digest removed and not signed", func(t *testing.T) (*http.Request, []byte) {
			return custom(t, "POST", nil, getHeaders)
		}, ErrHeadersNotSigned, 0},
		{"Digest present but not signed", func(t *testing.T) (*http.Request, []byte) {
			return custom(t, "POST", body, getHeaders)
		}, ErrHeadersNotSigned, 0},
		{"GET with a body and no signed digest", func(t *testing.T) (*http.Request, []byte) {
			return custom(t, "GET", body, getHeaders)
		}, ErrHeadersNotSigned, 0},
		{"Digest signed but removed", func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t, "POST", inbox, body, key, testNow)
			r.Header.Del("Digest")
			return r, b
		}, ErrDigestMismatch, 0},
		{"Digest without SHA-256", func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t, "POST", inbox, body, key, testNow)
			sum := sha256.Sum256(b) // right bytes, wrong name
			r.Header.Set("Digest", "SHA-512="+base64.StdEncoding.EncodeToString(sum[:]))
			return r, b
		}, ErrDigestMismatch, 0},
		{"Digest hex instead of base64", func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t, "POST", inbox, body, key, testNow)
			r.Header.Set("Digest", fmt.Sprintf("SHA-256=%x", sha256.Sum256(b)))
			return r, b
		}, ErrDigestMismatch, 0},
		{"host not signed", func(t *testing.T) (*http.Request, []byte) {
			return custom(t, "POST", body, []string{"(request-target)", "date", "digest"})
		}, ErrHeadersNotSigned, 0},
		{"(request-target) not signed", func(t *testing.T) (*http.Request, []byte) {
			return custom(t, "POST", body, []string{"host", "date", "digest"})
		}, ErrHeadersNotSigned, 0},
		{"date not signed", func(t *testing.T) (*http.Request, []byte) {
			return custom(t, "GET", nil, []string{"(request-target)", "host"})
		}, ErrHeadersNotSigned, 0},
		{"no headers parameter (defaults to date only)", func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t, "GET", inbox, nil, key, testNow)
			r.Header.Set("Signature", regexp.MustCompile(`headers="[^"]*",`).ReplaceAllString(r.Header.Get("Signature"), ""))
			return r, b
		}, ErrHeadersNotSigned, 0},
		{"Date 2 hours old", func(t *testing.T) (*http.Request, []byte) {
			return signed(t, "POST", inbox, body, key, testNow.Add(-2*time.Hour))
		}, ErrDateOutOfRange, 0},
		{"Date 2 hours in the future", func(t *testing.T) (*http.Request, []byte) {
			return signed(t, "POST", inbox, body, key, testNow.Add(2*time.Hour))
		}, ErrDateOutOfRange, 0},
		{"Date 61 minutes old", func(t *testing.T) (*http.Request, []byte) {
			return signed(t, "GET", inbox, nil, key, testNow.Add(-61*time.Minute))
		}, ErrDateOutOfRange, 0},
		{"Date unparseable", func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t, "GET", inbox, nil, key, testNow)
			r.Header.Set("Date", "yesterday")
			return r, b
		}, ErrDateOutOfRange, 0},
		{"Date changed within the window", func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t, "GET", inbox, nil, key, testNow)
			r.Header.Set("Date", testNow.Add(time.Minute).Format(http.TimeFormat))
			return r, b
		}, ErrBadSignature, 2},
		{"Host changed", func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t, "GET", inbox, nil, key, testNow)
			r.Host = "evil.example"
			return r, b
		}, ErrBadSignature, 2},
		{"method changed", func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t, "POST", inbox, body, key, testNow)
			r.Method = http.MethodPut
			return r, b
		}, ErrBadSignature, 2},
		{"forged: signed with another key", func(t *testing.T) (*http.Request, []byte) {
			return signed(t, "POST", inbox, body, otherKey(t), testNow)
		}, ErrBadSignature, 2},
		{"signature not base64", func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t, "GET", inbox, nil, key, testNow)
			r.Header.Set("Signature", regexp.MustCompile(`signature="[^"]*"`).ReplaceAllString(r.Header.Get("Signature"), `signature="!!!"`))
			return r, b
		}, ErrBadSignature, 2},
		{"missing Signature", func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t, "POST", inbox, body, key, testNow)
			r.Header.Del("Signature")
			return r, b
		}, ErrUnsigned, 0},
		{"Authorization with another scheme", func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t, "POST", inbox, body, key, testNow)
			r.Header.Set("Authorization", "Bearer "+r.Header.Get("Signature"))
			r.Header.Del("Signature")
			return r, b
		}, ErrUnsigned, 0},
		{"no keyId", func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t, "GET", inbox, nil, key, testNow)
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), "keyId=", "kid=", 1))
			return r, b
		}, ErrBadSignature, 0},
		{"repeated parameter", func(t *testing.T) (*http.Request, []byte) {
			r, b := signed(t, "GET", inbox, nil, key, testNow)
			r.Header.Set("Signature", r.Header.Get("Signature")+`,keyId="https://evil.example/k"`)
			return r, b
		}, ErrBadSignature, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, b := c.build(t)
			var calls []bool
			_, err := VerifyRequest(context.Background(), req, b, testNow, lookupOf(&key.PublicKey, &calls))
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if len(calls) != c.wantLookup {
				t.Errorf("lookup called %d times (%v), want %d", len(calls), calls, c.wantLookup)
			}
			t.Log(err)
		})
	}
}

func TestVerifyDateWindow(t *testing.T) {
	key := testKey(t)
	cases := []struct {
		offset time.Duration
		ok     bool
	}{
		{-2 * time.Hour, false},
		{-61 * time.Minute, false},
		{-time.Hour, true},
		{-59 * time.Minute, true},
		{0, true},
		{59 * time.Minute, true},
		{61 * time.Minute, false},
		{2 * time.Hour, false},
	}
	for _, c := range cases {
		t.Run(c.offset.String(), func(t *testing.T) {
			r, b := signed(t, "POST", "https://pecan.example/inbox", []byte(testActivity), key, testNow.Add(c.offset))
			_, err := VerifyRequest(context.Background(), r, b, testNow, lookupOf(&key.PublicKey, nil))
			if c.ok && err != nil {
				t.Fatalf("Date %v from now rejected: %v", c.offset, err)
			}
			if !c.ok && !errors.Is(err, ErrDateOutOfRange) {
				t.Fatalf("Date %v from now: err = %v, want ErrDateOutOfRange", c.offset, err)
			}
		})
	}
}

func TestVerifyKeyRotation(t *testing.T) {
	key, stale := testKey(t), otherKey(t)
	r, b := signed(t, "POST", "https://pecan.example/inbox", []byte(testActivity), key, testNow)
	var calls []bool
	lookup := func(_ context.Context, keyID string, refresh bool) (*rsa.PublicKey, error) {
		calls = append(calls, refresh)
		if keyID != aliceKeyID {
			t.Errorf("lookup(%q), want %q", keyID, aliceKeyID)
		}
		if refresh {
			return &key.PublicKey, nil
		}
		return &stale.PublicKey, nil
	}
	keyID, err := VerifyRequest(context.Background(), r, b, testNow, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if keyID != aliceKeyID {
		t.Errorf("keyID = %q", keyID)
	}
	if len(calls) != 2 || calls[0] || !calls[1] {
		t.Errorf("lookup refresh flags = %v, want [false true]", calls)
	}

	// A refetch that still gives the stale key fails, without a third call.
	calls = nil
	_, err = VerifyRequest(context.Background(), r, b, testNow, lookupOf(&stale.PublicKey, &calls))
	if !errors.Is(err, ErrBadSignature) || len(calls) != 2 {
		t.Errorf("stale key only: err %v after %d lookups, want ErrBadSignature after 2", err, len(calls))
	}

	// Lookup errors are passed through.
	gone := errors.New("410 gone")
	_, err = VerifyRequest(context.Background(), r, b, testNow, func(context.Context, string, bool) (*rsa.PublicKey, error) { return nil, gone })
	if !errors.Is(err, gone) || errors.Is(err, ErrBadSignature) {
		t.Errorf("failing lookup: err = %v, want the lookup's error", err)
	}
	calls = nil
	_, err = VerifyRequest(context.Background(), r, b, testNow, func(_ context.Context, _ string, refresh bool) (*rsa.PublicKey, error) {
		calls = append(calls, refresh)
		if refresh {
			return nil, gone
		}
		return &stale.PublicKey, nil
	})
	if !errors.Is(err, ErrBadSignature) || !errors.Is(err, gone) {
		t.Errorf("failing refresh: err = %v, want both ErrBadSignature and the lookup's error", err)
	}
}

func TestVerifyAuthorizationForm(t *testing.T) {
	key := testKey(t)
	r, b := signed(t, "POST", "https://pecan.example/inbox", []byte(testActivity), key, testNow)
	r.Header.Set("Authorization", "Signature "+r.Header.Get("Signature"))
	r.Header.Del("Signature")
	if _, err := VerifyRequest(context.Background(), r, b, testNow, lookupOf(&key.PublicKey, nil)); err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Get("Signature"); got != "" {
		t.Errorf("VerifyRequest added a Signature header %q", got)
	}
}

func TestVerifyAlgorithmLabels(t *testing.T) {
	key := testKey(t)
	for _, label := range []string{"rsa-sha256", "hs2019", "RSA-SHA256", "rsa-sha512", ""} {
		t.Run(label, func(t *testing.T) {
			r, b := signed(t, "POST", "https://pecan.example/inbox", []byte(testActivity), key, testNow)
			alg := ""
			if label != "" {
				alg = `algorithm="` + label + `",`
			}
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), `algorithm="rsa-sha256",`, alg, 1))
			if !strings.Contains(r.Header.Get("Signature"), alg) {
				t.Fatal("label not replaced")
			}
			if _, err := VerifyRequest(context.Background(), r, b, testNow, lookupOf(&key.PublicKey, nil)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVerifyMastodonStyle(t *testing.T) {
	key := testKey(t)
	body := []byte(testActivity)
	mastodonKeyID := "https://mastodon.example/users/alice#main-key"
	get := func(t *testing.T, target string) *http.Request {
		req := newRequest(t, "GET", "https://pecan.example/users/alice/outbox?page=true")
		req.Header.Set("Date", testNow.Format(http.TimeFormat))
		req.Header.Set("Signature", handSign(t, req, key, mastodonKeyID, "rsa-sha256", target, getHeaders))
		return req
	}
	cases := []struct {
		name string
		req  func(t *testing.T) (*http.Request, []byte)
	}{
		{"POST", func(t *testing.T) (*http.Request, []byte) { return mastodonRequest(t, key, body, testNow), body }},
		{"POST with spaces between parameters", func(t *testing.T) (*http.Request, []byte) {
			req := mastodonRequest(t, key, body, testNow)
			req.Header.Set("Signature", strings.ReplaceAll(req.Header.Get("Signature"), `",`, `", `))
			return req, body
		}},
		{"POST with several digests, lower-case name", func(t *testing.T) (*http.Request, []byte) {
			req := newRequest(t, "POST", "https://pecan.example/users/bob/inbox")
			req.Header.Set("Date", testNow.Format(http.TimeFormat))
			req.Header.Set("Digest", "SHA-512=AAAA, sha-256="+strings.TrimPrefix(digestOf(body), "SHA-256="))
			req.Header.Set("Signature", handSign(t, req, key, mastodonKeyID, "rsa-sha256", "post /users/bob/inbox", postHeaders))
			return req, body
		}},
		{"GET signed with query", func(t *testing.T) (*http.Request, []byte) {
			return get(t, "get /users/alice/outbox?page=true"), nil
		}},
		{"GET signed without query (older Mastodon)", func(t *testing.T) (*http.Request, []byte) {
			return get(t, "get /users/alice/outbox"), nil
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, b := c.req(t)
			sr, sb := toServer(t, req, b)
			keyID, err := VerifyRequest(context.Background(), sr, sb, testNow, lookupOf(&key.PublicKey, nil))
			if err != nil {
				t.Fatal(err)
			}
			if keyID != mastodonKeyID {
				t.Errorf("keyID = %q", keyID)
			}
		})
	}
}

func TestVerifyGoToSocialStyle(t *testing.T) {
	// GoToSocial (go-fed/httpsig fork): keyId is a /main-key path,
	// algorithm="hs2019", Date and Host reset before signing, ld+json body.
	key := testKey(t)
	const gtsKeyID = "http://127.0.0.1:8080/users/alice/main-key"
	body := []byte(testActivity)
	req := newRequest(t, "POST", "https://pecan.example/users/bob/inbox")
	req.Header.Set("Content-Type", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`)
	req.Header.Set("User-Agent", "gotosocial/0.20.0 (+http://127.0.0.1:8080)")
	req.Header.Set("Date", testNow.Format(http.TimeFormat))
	req.Header.Set("Host", req.URL.Host)
	s, _, err := httpsig.NewSigner([]httpsig.Algorithm{httpsig.RSA_SHA256}, httpsig.DigestSha256, postHeaders, httpsig.Signature, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SignRequest(key, gtsKeyID, req, body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(req.Header.Get("Signature"), `algorithm="hs2019"`) {
		t.Fatalf("not an hs2019 signature: %q", req.Header.Get("Signature"))
	}
	sr, sb := toServer(t, req, body)
	keyID, err := VerifyRequest(context.Background(), sr, sb, testNow, lookupOf(&key.PublicKey, nil))
	if err != nil {
		t.Fatal(err)
	}
	if keyID != gtsKeyID {
		t.Errorf("keyID = %q, want %q", keyID, gtsKeyID)
	}
}

// fixture is a signed request stored under testdata.
type fixture struct {
	Comment string            `json:"comment"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Now     time.Time         `json:"now"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

const fixturePath = "testdata/signed/mastodon-create.json"

// TestMastodonFixture pins a Mastodon-style signed POST: the test rebuilds it
// from the committed test key (PKCS#1 v1.5 signatures are deterministic) and
// compares with the file, then verifies the file's request. Run with
// -update to rewrite the file.
func TestMastodonFixture(t *testing.T) {
	key := testKey(t)
	req := mastodonRequest(t, key, []byte(testActivity), testNow)
	want := fixture{
		Comment: "Mastodon-style signed inbox POST, generated by TestMastodonFixture from testdata/test-key.pem (a test-only key).",
		Method:  req.Method,
		URL:     req.URL.String(),
		Now:     testNow,
		Headers: map[string]string{},
		Body:    testActivity,
	}
	for k := range req.Header {
		want.Headers[k] = req.Header.Get(k)
	}
	wantJSON, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	wantJSON = append(wantJSON, '\n')
	if *update {
		if err := os.WriteFile(fixturePath, wantJSON, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, wantJSON) {
		t.Errorf("%s differs from the regenerated request (run go test -update if the change is intended):\n%s", fixturePath, got)
	}

	var f fixture
	if err := json.Unmarshal(got, &f); err != nil {
		t.Fatal(err)
	}
	load := func() (*http.Request, []byte) {
		r := newRequest(t, f.Method, f.URL)
		for k, v := range f.Headers {
			r.Header.Set(k, v)
		}
		return toServer(t, r, []byte(f.Body))
	}
	r, b := load()
	keyID, err := VerifyRequest(context.Background(), r, b, f.Now, lookupOf(&key.PublicKey, nil))
	if err != nil {
		t.Fatalf("fixture does not verify: %v", err)
	}
	if keyID != "https://mastodon.example/users/alice#main-key" {
		t.Errorf("keyID = %q", keyID)
	}
	r, b = load()
	b[len(b)-2] ^= 1
	if _, err := VerifyRequest(context.Background(), r, b, f.Now, lookupOf(&key.PublicKey, nil)); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("fixture with a flipped body bit: err = %v, want ErrDigestMismatch", err)
	}
	r, b = load()
	if _, err := VerifyRequest(context.Background(), r, b, f.Now, lookupOf(&otherKey(t).PublicKey, nil)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("fixture with the wrong key: err = %v, want ErrBadSignature", err)
	}
}

func benchBody() []byte {
	b := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","type":"Create","actor":"https://pecan.example/users/alice","object":{"type":"Note","content":"`)
	b = append(b, bytes.Repeat([]byte("x"), 1024-len(b)-3)...)
	return append(b, `"}}`...)
}

func BenchmarkSignRequest(b *testing.B) {
	key := testKey(b)
	body := benchBody()
	req := newRequest(b, http.MethodPost, "https://remote.example/users/bob/inbox")
	b.ReportAllocs()
	for b.Loop() {
		if err := SignRequest(req, body, aliceKeyID, key, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRequest(b *testing.B) {
	key := testKey(b)
	body := benchBody()
	r, sb := signed(b, http.MethodPost, "https://pecan.example/users/bob/inbox", body, key, testNow)
	lookup := lookupOf(&key.PublicKey, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyRequest(ctx, r, sb, testNow, lookup); err != nil {
			b.Fatal(err)
		}
	}
}
