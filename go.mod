module github.com/pubsubx/pubsubx

go 1.26.0

require (
	github.com/cloudwego/netpoll v0.7.2
	github.com/creack/pty v1.1.24
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)

require (
	github.com/bytedance/gopkg v0.1.1 // indirect
	github.com/cloudwego/gopkg v0.1.4 // indirect
	github.com/stretchr/testify v1.11.1 // indirect
)
