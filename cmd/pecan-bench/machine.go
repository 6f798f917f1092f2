package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// machine is what the numbers were measured on.
type machine struct {
	CPUs        int     `json:"cpus"`
	GoVersion   string  `json:"go_version"`
	LoadBefore  string  `json:"load_average_before"`
	RSASignsPS  float64 `json:"rsa2048_signatures_per_s"`
	RSASignsPS1 float64 `json:"rsa2048_signatures_per_s_one_core"`
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// rsaSignsPerSecond signs SHA-256 digests with an RSA 2048 key
// (PKCS#1 v1.5, what every HTTP Signature of a delivery costs) on
// goroutines workers for d, and returns signatures per second.
func rsaSignsPerSecond(key *rsa.PrivateKey, goroutines int, d time.Duration) float64 {
	digest := sha256.Sum256([]byte("(request-target): post /inbox\nhost: example.com\ndate: now\ndigest: SHA-256=x"))
	var n atomic.Int64
	stop := time.Now().Add(d)
	began := time.Now()
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for time.Now().Before(stop) {
				if _, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:]); err != nil {
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(began).Seconds()
}

func measureMachine(d time.Duration) (machine, error) {
	m := machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadBefore: loadAverage()}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return m, err
	}
	m.RSASignsPS1 = rsaSignsPerSecond(key, 1, d)
	m.RSASignsPS = rsaSignsPerSecond(key, runtime.GOMAXPROCS(0), d)
	return m, nil
}
