# Connection load for bench/flows and test/e2e/flows: connects to HOST:PORT over TCP, reads one
# byte, closes; either COUNT connections paced at RATE per second (RATE 0 = as fast as possible) or
# as many as it can for SECONDS. Prints one JSON line: connections made, failures, latencies (us).
import json, socket, sys, time

host, port, count, rate, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
lat = []
failed = 0
start = time.perf_counter()
i = 0
while True:
    if seconds > 0:
        if time.perf_counter() - start >= seconds:
            break
    elif i >= count:
        break
    if rate > 0:
        due = start + i / rate
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
    t = time.perf_counter()
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.recv(1)
        s.close()
        lat.append(int((time.perf_counter() - t) * 1e6))
    except OSError:
        failed += 1
    i += 1
print(json.dumps({"made": len(lat), "failed": failed, "seconds": time.perf_counter() - start, "latencies_us": lat}))
