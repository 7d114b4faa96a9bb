package world

// slab holds records addressed by index (events carry the index, not a
// pointer), reusing freed ones so that nothing is allocated once warm.
type slab[T any] struct {
	items []T
	freed []int32
}

// alloc returns the index of a zeroed record.
func (s *slab[T]) alloc() int32 {
	if n := len(s.freed); n > 0 {
		i := s.freed[n-1]
		s.freed = s.freed[:n-1]
		return i
	}
	var zero T
	s.items = append(s.items, zero)
	return int32(len(s.items) - 1)
}

// free zeroes record i and makes it available again.
func (s *slab[T]) free(i int32) {
	var zero T
	s.items[i] = zero
	s.freed = append(s.freed, i)
}
