package model

// OpenFileCount is how many files Open holds open (share.go).
func OpenFileCount() int {
	openMu.Lock()
	defer openMu.Unlock()
	return len(openFiles)
}
