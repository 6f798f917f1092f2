package streams

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/pecan-social/pecan/models"
)

// SQLMarkers keeps markers in the database, for the embedded default: they
// survive restarts without Redis.
type SQLMarkers struct {
	db *bun.DB
}

// NewSQLMarkers returns the SQL marker store.
func NewSQLMarkers(db *bun.DB) *SQLMarkers { return &SQLMarkers{db: db} }

type markerRow struct {
	bun.BaseModel `bun:"table:markers"`

	UserID     int64     `bun:"user_id,pk"`
	Name       string    `bun:"name,pk"`
	ID         int64     `bun:"id"`
	LastReadID int64     `bun:"last_read_id"`
	Percentage int       `bun:"percentage"`
	Version    int64     `bun:"version"`
	UpdatedAt  time.Time `bun:"updated_at"`
}

func (r markerRow) marker() models.Marker {
	return models.Marker{Name: r.Name, ID: r.ID, LastReadID: r.LastReadID, Percentage: r.Percentage, Version: r.Version, UpdatedAt: r.UpdatedAt.UTC()}
}

// Update makes sure the row exists (version 0), then moves it in a single
// UPDATE, which the database applies atomically: concurrent updates each
// add one to the version and last_read_id keeps the largest id.
func (s *SQLMarkers) Update(ctx context.Context, userID int64, u MarkerUpdate, now time.Time) (models.Marker, error) {
	placeholder := &markerRow{UserID: userID, Name: u.Name, UpdatedAt: now}
	if _, err := s.db.NewInsert().Model(placeholder).On("CONFLICT (user_id, name) DO NOTHING").Exec(ctx); err != nil {
		return models.Marker{}, fmt.Errorf("create marker %s: %w", u.Name, err)
	}
	var row markerRow
	q := s.db.NewUpdate().Model(&row).
		Set("id = ?", u.ID).
		Set("last_read_id = CASE WHEN ? OR last_read_id < ? THEN ? ELSE last_read_id END", u.ResetReadID, u.ID, u.ID).
		Set("percentage = ?", u.Percentage).
		Set("version = version + 1").
		Set("updated_at = ?", now).
		Where("user_id = ? AND name = ?", userID, u.Name)
	if u.ExpectVersion != nil {
		q = q.Where("version = ?", *u.ExpectVersion)
	}
	err := q.Returning("*").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return models.Marker{}, ErrMarkerConflict
	}
	if err != nil {
		return models.Marker{}, fmt.Errorf("update marker %s: %w", u.Name, err)
	}
	return row.marker(), nil
}

// Get reads one marker; a placeholder that was never updated is not one.
func (s *SQLMarkers) Get(ctx context.Context, userID int64, name string) (models.Marker, bool, error) {
	var row markerRow
	err := s.db.NewSelect().Model(&row).Where("user_id = ? AND name = ? AND version > 0", userID, name).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return models.Marker{}, false, nil
	}
	if err != nil {
		return models.Marker{}, false, fmt.Errorf("read marker %s: %w", name, err)
	}
	return row.marker(), true, nil
}

// All reads every marker of a user.
func (s *SQLMarkers) All(ctx context.Context, userID int64) ([]models.Marker, error) {
	var rows []markerRow
	if err := s.db.NewSelect().Model(&rows).Where("user_id = ? AND version > 0", userID).Order("name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read markers: %w", err)
	}
	out := make([]models.Marker, len(rows))
	for i, r := range rows {
		out[i] = r.marker()
	}
	return out, nil
}
