// Package errs is the error shape processors return and the API renders:
// an HTTP status, a stable machine-readable code, a message for people, and
// the input field at fault where there is one.
package errs

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a failure a client can act on.
type Error struct {
	Status  int
	Code    string // stable slug, e.g. "text_too_long"
	Message string
	Field   string // the offending input, if any
	Err     error  // the cause, for logs; never shown to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// As finds an *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Invalid is a 400 for a bad value of field.
func Invalid(field, code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound is a 404.
func NotFound(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Forbidden is a 403: the caller is known but may not do this.
func Forbidden(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusForbidden, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Unauthorized is a 401: no usable credentials.
func Unauthorized(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Conflict is a 409: the request is valid but the state forbids it.
func Conflict(field, code, format string, args ...any) *Error {
	return &Error{Status: http.StatusConflict, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}
