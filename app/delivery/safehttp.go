package delivery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// AddressPolicy decides which addresses Pecan's outbound requests may
// reach. By default only public unicast addresses: a user who can make the
// server send requests must not be able to make it reach the operator's
// own network.
type AddressPolicy struct {
	// AllowPrivate lifts the rule (delivery.allow_private_addresses), for
	// tests and local federation.
	AllowPrivate bool
	// Public lists prefixes to treat as public even though they are not.
	// Tests use it to stand a "public" receiver on a loopback address.
	Public []netip.Prefix
}

// ErrRefusedAddress is returned for requests to addresses the policy refuses.
var ErrRefusedAddress = errors.New("refused address")

// notPublic are ranges netip's predicates do not cover but that no public
// server lives in.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
}

// Permits reports whether a connection to addr is allowed.
func (p AddressPolicy) Permits(addr netip.Addr) bool {
	if p.AllowPrivate {
		return true
	}
	addr = addr.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	for _, prefix := range p.Public {
		if prefix.Contains(addr) {
			return true
		}
	}
	return isPublic(addr)
}

func isPublic(addr netip.Addr) bool {
	if !addr.IsValid() || addr.IsUnspecified() || addr.IsLoopback() || addr.IsPrivate() ||
		addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() ||
		addr.IsMulticast() {
		return false
	}
	if addr.Is6() && netip.MustParsePrefix("64:ff9b::/96").Contains(addr) {
		// NAT64 carries an IPv4 address in its last 32 bits: judge that one.
		b := addr.As16()
		return isPublic(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	for _, prefix := range notPublic {
		if prefix.Contains(addr) {
			return false
		}
	}
	return true
}

// control runs after DNS resolution, on the address about to be dialled,
// so a name that resolves to a public address when checked and a private
// one when used (DNS rebinding) is still refused. Redirects dial through
// here too.
func (p AddressPolicy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse %q", ErrRefusedAddress, address)
	}
	if !p.Permits(ap.Addr()) {
		return fmt.Errorf("%w: %s is not a public address", ErrRefusedAddress, ap.Addr())
	}
	return nil
}

// ClientOptions shape the outbound HTTP client.
type ClientOptions struct {
	Policy    AddressPolicy
	UserAgent string
}

const maxRedirects = 5

// NewClient returns the one HTTP client every outbound request uses. It
// ignores proxy settings from the environment, since a proxy would dial on
// Pecan's behalf and bypass the address check.
func NewClient(o ClientOptions) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: o.Policy.control}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: userAgent{next: transport, value: o.UserAgent},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to a %s URL refused", req.URL.Scheme)
			}
			return nil
		},
	}
}

type userAgent struct {
	next  http.RoundTripper
	value string
}

func (u userAgent) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", u.value)
	}
	return u.next.RoundTrip(req)
}

// Resolver looks up a host's addresses; net.DefaultResolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckURL tells a user, when they register a URL, whether Pecan will ever
// be able to send to it: http or https, a host, no credentials, and (unless
// private addresses are allowed) only public addresses. The dial-time check
// still runs on every request; this one only gives an early, clear answer.
func CheckURL(ctx context.Context, raw string, policy AddressPolicy, resolver Resolver) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("the URL must start with http:// or https://")
	}
	if u.Hostname() == "" {
		return errors.New("the URL has no host")
	}
	if u.User != nil {
		return errors.New("the URL must not carry credentials; send them in a header")
	}
	if policy.AllowPrivate {
		return nil
	}
	addrs, err := lookup(ctx, u.Hostname(), resolver)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if !policy.Permits(a) {
			return fmt.Errorf("%s resolves to %s, which is not a public address", u.Hostname(), a.Unmap())
		}
	}
	return nil
}

func lookup(ctx context.Context, host string, resolver Resolver) ([]netip.Addr, error) {
	if addr, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{addr}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return nil, fmt.Errorf("the host %s does not resolve", host)
	}
	return addrs, nil
}
