# A TCP server for bench/flows: accepts on PORT, sends one byte, closes (the server holds TIME_WAIT).
import socket, sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(4096)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    try:
        c.send(b"x")
    except OSError:
        pass
    c.close()
