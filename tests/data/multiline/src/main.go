package main

import (
	"log"
	"os"
	"sync"
)

type Server struct{ handlers map[string]func() }

func (s *Server) handle(path string, wg *sync.WaitGroup) {
	defer wg.Done()
	s.handlers[path]()
}

func worker(ch chan int) {
	for range ch {
	}
}

func main() {
	log.SetOutput(os.Stderr)
	log.Println("listening on :8080")
	ch := make(chan int)
	go worker(ch)
	var wg sync.WaitGroup
	wg.Add(1)
	s := &Server{handlers: map[string]func(){}}
	go s.handle("/health", &wg)
	wg.Wait()
}
