package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pecan-social/pecan/app/delivery"
)

func TestAddressPolicyRefusesNonPublicAddresses(t *testing.T) {
	refused := []string{
		"127.0.0.1", "127.8.9.10", "::1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254",
		"fe80::1", "fc00::1", "fd12:3456::1", "0.0.0.0", "::", "224.0.0.1", "ff02::1", "100.64.0.1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "240.0.0.1", "255.255.255.255",
		"198.18.0.1", "192.0.2.1", "2001:db8::1",
	}
	public := []string{"93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::5db8:d822"}
	strict := delivery.AddressPolicy{}
	open := delivery.AddressPolicy{AllowPrivate: true}
	for _, s := range refused {
		addr := netip.MustParseAddr(s)
		if strict.Permits(addr) {
			t.Errorf("%s permitted by the default policy", s)
		}
		if !open.Permits(addr) {
			t.Errorf("%s refused although private addresses are allowed", s)
		}
	}
	for _, s := range public {
		if !strict.Permits(netip.MustParseAddr(s)) {
			t.Errorf("public address %s refused", s)
		}
	}
}

// fakeResolver answers from a table, as a DNS server an attacker controls
// might.
type fakeResolver map[string][]netip.Addr

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if addrs, ok := r[host]; ok {
		return addrs, nil
	}
	return nil, fmt.Errorf("no such host %s", host)
}

func TestCheckURL(t *testing.T) {
	resolver := fakeResolver{
		"good.example":   {netip.MustParseAddr("93.184.216.34")},
		"rebind.example": {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("127.0.0.1")},
		"localhost":      {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
	}
	cases := []struct {
		url     string
		wantErr string
	}{
		{"https://good.example/hook", ""},
		{"http://93.184.216.34:8080/x", ""},
		{"ftp://good.example/", "http:// or https://"},
		{"javascript:alert(1)", "http:// or https://"},
		{"https:///nohost", "no host"},
		{"https://user:pw@good.example/", "credentials"},
		{"http://127.0.0.1/", "not a public address"},
		{"http://[::1]:9000/", "not a public address"},
		{"http://10.0.0.1/", "not a public address"},
		{"http://169.254.169.254/latest/meta-data/", "not a public address"},
		{"http://localhost:8080/", "not a public address"},
		{"http://rebind.example/", "not a public address"},
		{"http://nowhere.example/", "does not resolve"},
	}
	for _, c := range cases {
		err := delivery.CheckURL(t.Context(), c.url, delivery.AddressPolicy{}, resolver)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.url, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: error %v, want one containing %q", c.url, err, c.wantErr)
		}
	}
	if err := delivery.CheckURL(t.Context(), "http://localhost:8080/", delivery.AddressPolicy{AllowPrivate: true}, resolver); err != nil {
		t.Errorf("localhost refused although private addresses are allowed: %v", err)
	}
}

func TestClientRefusesPrivateAddressesWhenDialling(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))

	strict := delivery.NewClient(delivery.ClientOptions{UserAgent: "test"})
	// "localhost" is resolved when dialling, as a rebinding name would be.
	for _, u := range []string{srv.URL, "http://localhost:" + port + "/"} {
		_, err := strict.Get(u)
		if !errors.Is(err, delivery.ErrRefusedAddress) {
			t.Errorf("GET %s: %v, want ErrRefusedAddress", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the server was reached %d times", hits.Load())
	}
	open := delivery.NewClient(delivery.ClientOptions{Policy: delivery.AddressPolicy{AllowPrivate: true}, UserAgent: "test"})
	resp, err := open.Get(srv.URL)
	if err != nil {
		t.Fatalf("allowed client: %v", err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Fatalf("hits %d after an allowed request", hits.Load())
	}
}

func TestClientRefusesRedirectsToPrivateAddresses(t *testing.T) {
	var private atomic.Int32
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { private.Add(1) }))
	defer inside.Close()
	// The "public" server stands on 127.0.0.2, which this test's policy
	// treats as public; it redirects to 127.0.0.1, which stays private.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	outside := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL+"/metadata", http.StatusFound)
	})}}
	outside.Start()
	defer outside.Close()

	client := delivery.NewClient(delivery.ClientOptions{
		Policy:    delivery.AddressPolicy{Public: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}},
		UserAgent: "Pecan/test",
	})
	_, err = client.Get(outside.URL)
	if !errors.Is(err, delivery.ErrRefusedAddress) {
		t.Fatalf("redirect to a private address: %v, want ErrRefusedAddress", err)
	}
	if private.Load() != 0 {
		t.Fatal("the private server was reached through a redirect")
	}
}

func TestClientSendsUserAgent(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.UserAgent() }))
	defer srv.Close()
	client := delivery.NewClient(delivery.ClientOptions{Policy: delivery.AddressPolicy{AllowPrivate: true}, UserAgent: "Pecan/1.2.3 (+https://pecan.example)"})
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ua := <-got; ua != "Pecan/1.2.3 (+https://pecan.example)" {
		t.Fatalf("User-Agent %q", ua)
	}
}
