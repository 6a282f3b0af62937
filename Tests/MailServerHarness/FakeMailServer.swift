import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A scriptable mail server on 127.0.0.1 for provider behaviour no local server has (Gmail `[ALERT]`, Yahoo
/// `#MBR1240`, Outlook's POP3 login limit, Microsoft throttling) and for the faults of networks and broken servers
/// (a connection cut inside a literal, a server that stops answering, garbage): a plain POSIX socket served by one
/// background thread, one connection at a time. Each connection gets its own `FakeMailSession`: a replayed
/// `FakeMailScript`, or a stateful fake mailbox (`FakeMailServer.imap(_:faults:)`, `.pop3(_:faults:)`).
///
/// ```swift
/// let server = try FakeMailServer(.gmailIMAPWebLoginAlert)
/// defer { server.stop() }
/// // connect to 127.0.0.1:server.port with TLS .none
/// ```
public final class FakeMailServer: @unchecked Sendable {
    /// The port it listens on (chosen by the kernel, so no clash).
    public let port: Int

    /// Makes each connection's session; replaced by `replaceScript` (under `lock`).
    private var makeSession: @Sendable (Int) -> any FakeMailSession
    private let faults: FakeMailFaultBook?
    private let listener: Int32
    private let lock = NSLock()
    private var stopped = false
    private var lines: [String] = []
    private var unexpected: [String] = []
    private var connections = 0
    private let finished = DispatchSemaphore(value: 0)

    /// Starts listening on 127.0.0.1 at a free port and replays `script` to every connection until `stop()`.
    public convenience init(_ script: FakeMailScript) throws {
        try self.init(sessions: { _ in FakeMailScriptSession(script) })
    }

    /// Starts listening on 127.0.0.1 at a free port; `makeSession` is called with the connection's number
    /// (1 for the first) for every connection accepted until `stop()`.
    public convenience init(sessions makeSession: @escaping @Sendable (_ connection: Int) -> any FakeMailSession)
        throws
    {
        try self.init(sessions: makeSession, faults: nil)
    }

    init(sessions makeSession: @escaping @Sendable (Int) -> any FakeMailSession, faults: FakeMailFaultBook?) throws {
        self.makeSession = makeSession
        self.faults = faults
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
    /// For a fake mailbox server: how many times each of its faults fired, in the order given.
    public var faultsFired: [Int] { faults?.counts ?? [] }

    /// Serves `script` from the next connection on (a relay whose admin fixed something, say).
    public func replaceScript(_ script: FakeMailScript) {
        lock.withLock { self.makeSession = { _ in FakeMailScriptSession(script) } }
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
            // Every write leaves at once, so a drip really arrives a byte at a time.
            var noDelay: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
            let (number, make) = lock.withLock {
                connections += 1
                return (connections, makeSession)
            }
            serve(client, session: make(number))
            close(client)
        }
    }

    /// Waits up to 100 ms for `fd` to become readable.
    private func waitReadable(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 100) > 0
    }

    /// Sends a reply's steps; false when the peer is gone or the server stops.
    private func send(_ reply: FakeMailReply, to fd: Int32) -> Bool {
        for step in reply.steps {
            switch step {
            case .pause(let duration):
                guard pause(duration) else { return false }
            case .line, .bytes:
                let bytes = FakeMailReply([step]).bytes
                if let drip = reply.drip {
                    for byte in bytes {
                        guard pause(drip), write([byte], to: fd) else { return false }
                    }
                } else {
                    guard write(bytes, to: fd) else { return false }
                }
            }
        }
        return true
    }

    private func write(_ bytes: [UInt8], to fd: Int32) -> Bool {
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

    /// Sleeps `duration` in slices of at most 50 ms; false when the server stops meanwhile.
    private func pause(_ duration: Duration) -> Bool {
        var left = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        while left > 0 {
            if isStopped { return false }
            let slice = min(left, 0.05)
            Thread.sleep(forTimeInterval: slice)
            left -= slice
        }
        return !isStopped
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

    /// Whether to go on reading after `reply`; a `.silence` reply keeps the connection open until the peer leaves.
    private func carryOn(after reply: FakeMailReply, fd: Int32) -> Bool {
        switch reply.then {
        case .next:
            return true
        case .close:
            return false
        case .silence:
            staySilent(fd)
            return false
        }
    }

    private func serve(_ fd: Int32, session: any FakeMailSession) {
        let greeting = session.greeting()
        guard send(greeting, to: fd), carryOn(after: greeting, fd: fd) else { return }
        var buffer: [UInt8] = []
        while let line = readLine(fd, buffer: &buffer) {
            lock.withLock { lines.append(line) }
            let reply = session.respond(to: line)
            if reply.unexpected { lock.withLock { unexpected.append(line) } }
            guard send(reply, to: fd), carryOn(after: reply, fd: fd) else { return }
        }
    }
}
