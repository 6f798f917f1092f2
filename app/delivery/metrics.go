package delivery

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/models"
)

type metrics struct {
	attempts *prometheus.CounterVec
	outcomes *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, db *database.DB) *metrics {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "pecan", Subsystem: "delivery", Name: "attempts_total",
			Help: "Outbound delivery attempts, by kind.",
		}, []string{"kind"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "pecan", Subsystem: "delivery", Name: "outcomes_total",
			Help: "Outcomes of delivery attempts by kind: delivered, retry (will try again) or failed (gave up).",
		}, []string{"kind", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "pecan", Subsystem: "delivery", Name: "attempt_duration_seconds",
			Help:    "Time one delivery attempt took, signing and sending, by kind.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.attempts, m.outcomes, m.latency, depthCollector{db: db})
	}
	return m
}

func (m *metrics) attempt(kind models.DeliveryKind, took time.Duration) {
	m.attempts.WithLabelValues(string(kind)).Inc()
	m.latency.WithLabelValues(string(kind)).Observe(took.Seconds())
}

func (m *metrics) outcome(kind models.DeliveryKind, result string) {
	m.outcomes.WithLabelValues(string(kind), result).Inc()
}

// depthCollector counts the queue when Prometheus scrapes, so the number is
// the database's, shared by every replica, not one process's guess.
type depthCollector struct{ db *database.DB }

var depthDesc = prometheus.NewDesc("pecan_delivery_queue_depth",
	"Deliveries waiting (pending) or given up on (failed), by kind.", []string{"kind", "status"}, nil)

func (c depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- depthDesc }

func (c depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	depths, err := c.db.QueueDepths(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(depthDesc, err)
		return
	}
	seen := map[[2]string]bool{}
	for _, d := range depths {
		seen[[2]string{d.Kind, d.Status}] = true
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(d.Count), d.Kind, d.Status)
	}
	// Report zeros too, so a drained queue reads 0 rather than vanishing.
	for _, kind := range []models.DeliveryKind{models.DeliveryActivityPub, models.DeliveryWebhook, models.DeliveryCrosspost} {
		for _, status := range []models.DeliveryStatus{models.DeliveryPending, models.DeliveryFailed} {
			if !seen[[2]string{string(kind), string(status)}] {
				ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, 0, string(kind), string(status))
			}
		}
	}
}
