package main

import (
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/prometheus/client_golang/prometheus"
)

// registerOCSPMetrics exports where this instance's OCSP answers without a
// nonce came from, and whether it learns of every status change: an
// instance answering from the database, or signing, more than from memory
// says its watch is down or its memory too small.
func registerOCSPMetrics(registry *prometheus.Registry, ca *pki.CA) {
	for _, src := range []struct {
		name string
		get  func(pki.OCSPStats) int64
	}{
		{"memory", func(s pki.OCSPStats) int64 { return s.Memory }},
		{"database", func(s pki.OCSPStats) int64 { return s.Database }},
		{"signed", func(s pki.OCSPStats) int64 { return s.Signed }},
	} {
		registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "lanyard_ocsp_presigned_answers_total",
			Help:        "OCSP answers for one certificate without a nonce, by where the response came from.",
			ConstLabels: prometheus.Labels{"source": src.name},
		}, func() float64 { return float64(src.get(ca.OCSPStats())) }))
	}
	registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lanyard_ocsp_status_watch_live",
		Help: "1 while this instance learns of every certificate status change as it commits, and so answers OCSP from memory.",
	}, func() float64 {
		if ca.OCSPWatchLive() {
			return 1
		}
		return 0
	}))
}
