import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A scriptable mail server on 127.0.0.1 for provider behaviour no local server has (Gmail `[ALERT]`, Yahoo
/// `#MBR1240`, Outlook's POP3 login limit, Microsoft throttling): a plain POSIX socket served by one background
/// thread, which replays a `FakeMailScript` to every connection, one connection at a time.
///
/// ```swift
/// let server = try FakeMailServer(.gmailIMAPWebLoginAlert)
/// defer { server.stop() }
/// // connect to 127.0.0.1:server.port with TLS .none
/// ```
public final class FakeMailServer: @unchecked Sendable {
    /// The port it listens on (chosen by the kernel, so no clash).
    public let port: Int

    private var script: FakeMailScript
    private let listener: Int32
    private let lock = NSLock()
    private var stopped = false
    private var lines: [String] = []
    private var unexpected: [String] = []
    private var connections = 0
    private let finished = DispatchSemaphore(value: 0)

    /// Starts listening on 127.0.0.1 at a free port and serves `script` until `stop()`.
    public init(_ script: FakeMailScript) throws {
        self.script = script
        let (fd, port) = try bindLoopbackSocket(failure: .startFailed, reuseAddress: true)
        guard listen(fd, 8) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw MailServerHarnessError(.startFailed, "cannot listen on 127.0.0.1: \(reason)")
        }
        self.listener = fd
        self.port = port
        let thread = Thread { [self] in
            self.acceptLoop()
            self.finished.signal()
        }
        thread.name = "FakeMailServer:\(port)"
        thread.start()
    }

    deinit {
        stop()
    }

    /// Every line clients sent, in order, over all connections (without CRLF).
    public var receivedLines: [String] { lock.withLock { lines } }
    /// Client lines that matched no exchange (the script was wrong, or the client misbehaved).
    public var unexpectedLines: [String] { lock.withLock { unexpected } }
    /// How many connections were accepted.
    public var connectionCount: Int { lock.withLock { connections } }

    /// Serves `script` from the next connection on (a relay whose admin fixed something, say).
    public func replaceScript(_ script: FakeMailScript) {
        lock.withLock { self.script = script }
    }

    /// Stops serving and closes the listening socket; waits for the server thread. Idempotent.
    public func stop() {
        let wasStopped = lock.withLock {
            defer { stopped = true }
            return stopped
        }
        guard !wasStopped else { return }
        finished.wait()
        close(listener)
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func acceptLoop() {
        while !isStopped {
            guard waitReadable(listener) else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            lock.withLock { connections += 1 }
            serve(client)
            close(client)
        }
    }

    /// Waits up to 100 ms for `fd` to become readable.
    private func waitReadable(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 100) > 0
    }

    private func send(_ lines: [String], to fd: Int32, tag: String) -> Bool {
        var bytes: [UInt8] = []
        for line in lines {
            bytes += Array(line.replacingOccurrences(of: "{tag}", with: tag).utf8) + [13, 10]
        }
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Reads one CRLF- (or LF-) terminated line; nil when the peer closed or the server stops.
    private func readLine(_ fd: Int32, buffer: inout [UInt8]) -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                var line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if line.last == 13 { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            if isStopped { return nil }
            guard waitReadable(fd) else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            buffer += chunk[..<count]
        }
    }

    /// Drops everything until the peer closes or the server stops.
    private func staySilent(_ fd: Int32) {
        var buffer: [UInt8] = []
        while readLine(fd, buffer: &buffer) != nil {
            buffer.removeAll()
        }
    }

    private func serve(_ fd: Int32) {
        let script = lock.withLock { self.script }
        guard let greeting = script.greeting else { return staySilent(fd) }
        guard send(greeting, to: fd, tag: "*") else { return }
        var buffer: [UInt8] = []
        var next = 0
        var tag = "*"
        var continuationPending = false
        while let line = readLine(fd, buffer: &buffer) {
            lock.withLock { lines.append(line) }
            var command = line
            if script.tagged && !continuationPending {
                let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                tag = parts.first.map(String.init) ?? "*"
                command = parts.count > 1 ? String(parts[1]) : ""
            }
            let exchange: FakeMailScript.Exchange
            if next < script.exchanges.count, FakeMailScript.matches(script.exchanges[next].match, command) {
                exchange = script.exchanges[next]
                next += 1
            } else if let anytime = script.anytime.first(where: { FakeMailScript.matches($0.match, command) }) {
                exchange = anytime
            } else {
                lock.withLock { unexpected.append(line) }
                _ = send(script.unexpectedReply, to: fd, tag: tag)
                return
            }
            guard send(exchange.reply, to: fd, tag: tag) else { return }
            continuationPending = exchange.reply.last?.hasPrefix("+ ") == true || exchange.reply.last == "+"
            switch exchange.then {
            case .next: continue
            case .close: return
            case .silence: return staySilent(fd)
            }
        }
    }
}
