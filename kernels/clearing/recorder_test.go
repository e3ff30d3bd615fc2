package clearing

import (
	"context"
	"math/rand/v2"
	"time"

	"google.golang.org/protobuf/proto"
)

// recorder is a fold.Context that records the emitted kinds.
type recorder struct {
	context.Context
	kinds []string
}

func (*recorder) Seq() uint64                         { return 1 }
func (*recorder) TS() int64                           { return 0 }
func (*recorder) Time() time.Time                     { return time.Time{} }
func (*recorder) Rand() *rand.Rand                    { return rand.New(rand.NewPCG(1, 2)) }
func (r *recorder) Emit(kind string, _ proto.Message) { r.kinds = append(r.kinds, kind) }
