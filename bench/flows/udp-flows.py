# UDP datagrams to distinct (source socket, destination port) tuples at RATE per second for SECONDS:
# each one a new conntrack entry in the receiving namespace (bench/flows "events"). Prints the count sent.
import socket, sys, time
host, rate, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(8)]
n = 0; start = time.perf_counter(); batch = 50
while True:
    now = time.perf_counter()
    if now - start >= seconds: break
    due = start + n / rate
    if due > now: time.sleep(due - now)
    for _ in range(batch):
        s = socks[(n // 60000) % 8]
        s.sendto(b'x', (host, 1 + n % 60000)); n += 1
print(n)
