package federation

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-fed/httpsig"
)

// HTTP Signatures (draft-cavage) as Mastodon and GoToSocial use them, on top
// of go-fed/httpsig v1.1.0. The library builds signing strings and does the
// RSA work; this file adds what it leaves out (see
// /work/shared/federation-notes.md): the Host header on outbound requests,
// Digest-against-body and Date-window checks, the minimum set of signed
// headers, the query-less (request-target) retry and the key-refresh retry.

// Errors returned (wrapped) by VerifyRequest. Callers use errors.Is.
var (
	ErrUnsigned         = errors.New("request is not signed")
	ErrHeadersNotSigned = errors.New("required headers are not signed")
	ErrDateOutOfRange   = errors.New("date header out of range")
	ErrDigestMismatch   = errors.New("digest does not match the body")
	ErrBadSignature     = errors.New("signature does not verify")
)

// MaxClockSkew is how far the Date header of an inbound request may be from
// now, either way. Mastodon accepts roughly [now-65min, now+60min].
const MaxClockSkew = time.Hour

var (
	getHeaders  = []string{httpsig.RequestTarget, "host", "date"}
	postHeaders = []string{httpsig.RequestTarget, "host", "date", "digest"}
)

// SignRequest signs req at send time: sets Date (now, http.TimeFormat, UTC)
// and the Host header from req.URL.Host (and req.Host to the same value, so
// the host on the wire is the one signed), and for a request with a body
// (POST) sets Digest: SHA-256=<base64> and signs
// "(request-target) host date digest"; a GET signs "(request-target) host
// date". RSA-SHA256 (PKCS#1 v1.5), labelled algorithm="rsa-sha256" as
// Mastodon's own requests are. keyID is e.g.
// "https://host/users/alice#main-key". body may be nil for GET.
//
// Any Signature or Digest header already on req is replaced, so a retry may
// sign the same request again. (request-target) uses the escaped path, the
// form sent on the wire. One httpsig.Signer is made per call (they are not
// goroutine-safe).
func SignRequest(req *http.Request, body []byte, keyID string, key *rsa.PrivateKey, now time.Time) error {
	if key == nil {
		return errors.New("sign request: nil private key")
	}
	if req.URL == nil || req.URL.Host == "" {
		return errors.New("sign request: request URL has no host")
	}
	if keyID == "" || strings.ContainsAny(keyID, "\",\r\n") {
		return fmt.Errorf("sign request: invalid keyId %q", keyID)
	}
	if req.Header == nil {
		req.Header = make(http.Header)
	}

	headers := getHeaders
	if body != nil || req.Method == http.MethodPost {
		headers = postHeaders
		if body == nil {
			body = []byte{}
		}
	} else {
		body = nil // go-fed adds a Digest whenever body != nil
	}

	req.Host = req.URL.Host
	req.Header.Set("Host", req.URL.Host)
	req.Header.Set("Date", now.UTC().Format(http.TimeFormat))
	req.Header.Del("Digest")
	req.Header.Del("Signature")

	signer, algo, err := httpsig.NewSigner([]httpsig.Algorithm{httpsig.RSA_SHA256}, httpsig.DigestSha256, headers, httpsig.Signature, 0)
	if err != nil {
		return fmt.Errorf("sign request: new signer: %w", err)
	}
	if algo != httpsig.RSA_SHA256 {
		return fmt.Errorf("sign request: signer chose %q, want %q", algo, httpsig.RSA_SHA256)
	}

	// go-fed builds (request-target) from URL.Path, the decoded path, while
	// the wire (and Mastodon) use the escaped one. Sign a shallow copy whose
	// Path is the escaped form; it shares req.Header, so Digest and
	// Signature land on req.
	signed := *req
	u := *req.URL
	u.Path, u.RawPath = req.URL.EscapedPath(), ""
	signed.URL = &u
	if err := signer.SignRequest(key, keyID, &signed, body); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}

	// go-fed always writes algorithm="hs2019". Mastodon accepts both labels
	// but writes "rsa-sha256" itself, which is also what the signature is;
	// use that label for servers that know no other.
	if sig := req.Header.Get("Signature"); sig != "" {
		prefix := `keyId="` + keyID + `",algorithm="hs2019",`
		if strings.HasPrefix(sig, prefix) {
			req.Header.Set("Signature", `keyId="`+keyID+`",algorithm="rsa-sha256",`+sig[len(prefix):])
		}
	}
	return nil
}

// KeyLookup returns the public key for keyID; refresh=true asks it to bypass
// any cache (key rotation).
type KeyLookup func(ctx context.Context, keyID string, refresh bool) (*rsa.PublicKey, error)

// VerifyRequest checks an inbound request and returns the keyID that signed
// it. body is the request body, already read by the caller.
//
// Checks, in this order (the first failure is returned):
//   - a Signature header, or "Authorization: Signature …", is present
//     (else ErrUnsigned); a malformed one, or one without keyId or
//     signature, gives ErrBadSignature;
//   - the signed headers include "(request-target)", "host" and "date", and
//     "digest" when the request has a body or is a POST (else
//     ErrHeadersNotSigned). A Digest header that is present but not signed
//     is therefore ErrHeadersNotSigned, as is a Digest removed together
//     with its entry in the headers list;
//   - exactly one Date header, within MaxClockSkew of now (else
//     ErrDateOutOfRange);
//   - when digest is required or signed: the Digest header exists and every
//     SHA-256 value in it (algorithm name case-insensitive, several
//     comma-separated pairs allowed, at least one SHA-256) equals
//     base64(sha256(body)) (else ErrDigestMismatch). A Digest listed in
//     headers but missing from the request is ErrDigestMismatch;
//   - the signature verifies as RSA-SHA256 PKCS#1 v1.5, whatever the
//     algorithm label, with (request-target) including the query string or,
//     failing that, without it (older Mastodon); with the escaped path or,
//     if different, the decoded one (go-fed signers). The key comes from
//     lookup(ctx, keyID, false); if it does not verify, lookup(ctx, keyID,
//     true) is called once and tried (key rotation). Failure is
//     ErrBadSignature; an error from the first lookup is returned wrapped as
//     is (not ErrBadSignature).
//
// Date, Digest and the signed-header set are checked before any key lookup,
// so malformed requests cost no fetch. go-fed's own (created)/(expires)
// checks, done only when those parameters are present, use the wall clock.
// The request is not modified: verification runs on a copy of its header.
func VerifyRequest(ctx context.Context, req *http.Request, body []byte, now time.Time, lookup KeyLookup) (keyID string, err error) {
	raw := signatureHeader(req.Header)
	if raw == "" {
		return "", ErrUnsigned
	}
	p, err := parseSignatureParams(raw)
	if err != nil {
		return "", fmt.Errorf("%w: malformed Signature header: %v", ErrBadSignature, err)
	}
	keyID = p.keyID

	signed := strings.Fields(strings.ToLower(p.headers))
	needDigest := len(body) > 0 || req.Method == http.MethodPost
	for _, h := range postHeaders {
		if h == "digest" && !needDigest {
			continue
		}
		if !slices.Contains(signed, h) {
			return keyID, fmt.Errorf("%w: %q missing from signed headers %q", ErrHeadersNotSigned, h, p.headers)
		}
	}

	dates := req.Header.Values("Date")
	if len(dates) != 1 {
		return keyID, fmt.Errorf("%w: want one Date header, got %d", ErrDateOutOfRange, len(dates))
	}
	date, err := http.ParseTime(dates[0])
	if err != nil {
		return keyID, fmt.Errorf("%w: unparseable Date %q", ErrDateOutOfRange, dates[0])
	}
	if skew := date.Sub(now); skew > MaxClockSkew || skew < -MaxClockSkew {
		return keyID, fmt.Errorf("%w: Date %q is %v from now", ErrDateOutOfRange, dates[0], skew.Round(time.Second))
	}

	if needDigest || slices.Contains(signed, "digest") {
		if err := checkDigest(req.Header.Values("Digest"), body); err != nil {
			return keyID, err
		}
	}

	verifiers, err := newVerifiers(req, p, signed)
	if err != nil {
		return keyID, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}

	key, err := lookup(ctx, keyID, false)
	if err != nil {
		return keyID, fmt.Errorf("look up key %q: %w", keyID, err)
	}
	firstErr := verifyAny(verifiers, key)
	if firstErr == nil {
		return keyID, nil
	}
	fresh, err := lookup(ctx, keyID, true)
	if err != nil {
		return keyID, fmt.Errorf("%w with key %q (%v); refetching the key: %w", ErrBadSignature, keyID, firstErr, err)
	}
	if key != nil && fresh != nil && fresh.Equal(key) {
		return keyID, fmt.Errorf("%w with key %q (unchanged after refetch): %v", ErrBadSignature, keyID, firstErr)
	}
	if err := verifyAny(verifiers, fresh); err != nil {
		return keyID, fmt.Errorf("%w with refetched key %q: %v", ErrBadSignature, keyID, err)
	}
	return keyID, nil
}

// signatureHeader returns the signature parameters from the Signature header
// or, failing that, from "Authorization: Signature …".
func signatureHeader(h http.Header) string {
	if s := strings.TrimSpace(h.Get("Signature")); s != "" {
		return s
	}
	a := strings.TrimSpace(h.Get("Authorization"))
	const scheme = "signature "
	if len(a) > len(scheme) && strings.EqualFold(a[:len(scheme)], scheme) {
		return strings.TrimSpace(a[len(scheme):])
	}
	return ""
}

type sigParams struct {
	keyID, headers, signature, created, expires string
}

// parseSignatureParams parses `k="v",k=v,…` with optional whitespace around
// the commas and '=' (RFC 7235 auth-params), which go-fed's own parser does
// not allow. Parameter names are case-insensitive; unknown ones (algorithm
// included) are ignored.
func parseSignatureParams(s string) (sigParams, error) {
	var p sigParams
	seen := map[string]bool{}
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return p, fmt.Errorf("parameter without value near %q", s)
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return p, fmt.Errorf("unterminated quoted value for %q", name)
			}
			val, s = s[1:1+end], s[2+end:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
		}
		s = strings.TrimLeft(s, " \t")
		if s != "" && s[0] != ',' {
			return p, fmt.Errorf("junk after parameter %q", name)
		}
		if seen[name] {
			return p, fmt.Errorf("repeated parameter %q", name)
		}
		seen[name] = true
		switch name {
		case "keyid":
			p.keyID = val
		case "headers":
			p.headers = val
		case "signature":
			p.signature = val
		case "created":
			p.created = val
		case "expires":
			p.expires = val
		}
	}
	switch {
	case p.keyID == "":
		return p, errors.New("no keyId")
	case p.signature == "":
		return p, errors.New("no signature")
	case strings.ContainsAny(p.keyID, ","):
		return p, fmt.Errorf("keyId %q contains a comma", p.keyID)
	}
	return p, nil
}

// checkDigest compares every SHA-256 value in the Digest header(s) with the
// body's hash. At least one SHA-256 value is required.
func checkDigest(values []string, body []byte) error {
	if len(values) == 0 {
		return fmt.Errorf("%w: no Digest header", ErrDigestMismatch)
	}
	sum := sha256.Sum256(body)
	want := base64.StdEncoding.EncodeToString(sum[:])
	found := false
	for _, v := range values {
		for _, pair := range strings.Split(v, ",") {
			algo, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(algo), "SHA-256") {
				continue
			}
			found = true
			if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(val)), []byte(want)) != 1 {
				return fmt.Errorf("%w: SHA-256 %q, body hashes to %q", ErrDigestMismatch, strings.TrimSpace(val), want)
			}
		}
	}
	if !found {
		return fmt.Errorf("%w: no SHA-256 value in Digest %q", ErrDigestMismatch, strings.Join(values, ", "))
	}
	return nil
}

// newVerifiers makes one go-fed Verifier per candidate (request-target):
// escaped path with query, without query, then the decoded path likewise if
// it differs. They run on a copy of the header holding a canonical Signature
// header, so req is not modified and go-fed's parser never sees whitespace
// or both Signature and Authorization.
func newVerifiers(req *http.Request, p sigParams, signed []string) ([]httpsig.Verifier, error) {
	var b strings.Builder
	b.WriteString(`keyId="` + p.keyID + `",headers="` + strings.Join(signed, " ") + `",signature="` + p.signature + `"`)
	if p.created != "" {
		b.WriteString(",created=" + p.created)
	}
	if p.expires != "" {
		b.WriteString(",expires=" + p.expires)
	}
	h := maps.Clone(req.Header)
	h["Signature"] = []string{b.String()}
	delete(h, "Authorization")

	paths := []string{req.URL.EscapedPath()}
	if req.URL.Path != paths[0] {
		paths = append(paths, req.URL.Path)
	}
	var vs []httpsig.Verifier
	for _, path := range paths {
		queries := []string{""}
		if req.URL.RawQuery != "" {
			queries = []string{req.URL.RawQuery, ""}
		}
		for _, q := range queries {
			r := &http.Request{Method: req.Method, URL: &url.URL{Path: path, RawQuery: q}, Host: req.Host, Header: h}
			v, err := httpsig.NewVerifier(r)
			if err != nil {
				return nil, err
			}
			vs = append(vs, v)
		}
	}
	return vs, nil
}

// verifyAny reports nil if any verifier accepts key as RSA-SHA256.
func verifyAny(vs []httpsig.Verifier, key *rsa.PublicKey) error {
	if key == nil {
		return errors.New("no key")
	}
	var first error
	for _, v := range vs {
		err := v.Verify(key, httpsig.RSA_SHA256)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}
