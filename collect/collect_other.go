//go:build !linux

package collect

import "context"

// Run is only available on Linux.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	return nil, ErrUnsupported
}

// Check says what is missing to record here: Linux.
func Check() error { return ErrUnsupported }
