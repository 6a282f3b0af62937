import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A server the harness started, which process exit stops.
protocol HarnessServer: AnyObject, Sendable {
    func stop()
}

extension MailServers: HarnessServer {}
extension PostgresServer: HarnessServer {}

/// The process-wide list of running instances, the shared ones, and the `atexit` hook that stops them all.
final class InstanceRegistry: @unchecked Sendable {
    /// The one registry of this process.
    static let shared = InstanceRegistry()

    // Guards every stored property below.
    private let lock = NSLock()
    private var running: [ObjectIdentifier: any HarnessServer] = [:]
    private var sharedMailServers: Task<MailServers, any Error>?
    private var sharedPostgres: Task<PostgresServer, any Error>?

    private init() {
        Self.sweepAbandonedInstances()
        atexit {
            InstanceRegistry.shared.stopAll()
        }
    }

    /// The shared mail servers, started by the first caller; every other caller awaits the same start.
    func sharedServers() async throws -> MailServers {
        try await shared(\.sharedMailServers) { try await MailServers.start() }
    }

    /// The shared PostgreSQL server, started like the mail servers.
    func sharedPostgresServer() async throws -> PostgresServer {
        try await shared(\.sharedPostgres) { try await PostgresServer.start() }
    }

    private func shared<Server: Sendable>(
        _ slot: ReferenceWritableKeyPath<InstanceRegistry, Task<Server, any Error>?>,
        start: @escaping @Sendable () async throws -> Server
    ) async throws -> Server {
        let task = lock.withLock {
            if let task = self[keyPath: slot] { return task }
            let task = Task { try await start() }
            self[keyPath: slot] = task
            return task
        }
        return try await task.value
    }

    /// Remembers a running instance so that process exit stops it.
    func register(_ server: any HarnessServer) {
        lock.withLock { running[ObjectIdentifier(server)] = server }
    }

    /// Forgets a stopped instance.
    func unregister(_ server: any HarnessServer) {
        _ = lock.withLock { running.removeValue(forKey: ObjectIdentifier(server)) }
    }

    /// Stops every running instance (called at process exit).
    func stopAll() {
        let instances = lock.withLock { Array(running.values) }
        DispatchQueue.concurrentPerform(iterations: instances.count) { instances[$0].stop() }
    }

    /// Stops servers left behind by test processes that died without running `atexit` (crash, SIGKILL), and
    /// removes their directories.
    private static func sweepAbandonedInstances() {
        let temporary = MailServers.temporaryRoot
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: temporary.path) else { return }
        for entry in entries where entry.hasPrefix(MailServerHarness.directoryPrefix) {
            let directory = temporary.appendingPathComponent(entry)
            let ownerFile = directory.appendingPathComponent("owner.pid").path
            guard let owner = readPID(ownerFile), !ProcessTable.isAlive(owner) else { continue }
            var targets: [ProcessTable.Target] = []
            if let master = readPID(directory.appendingPathComponent("run/master.pid").path),
                ProcessTable.commandLine(master).contains(directory.path)
            {
                targets.append(.init(pid: master, reap: nil))
            }
            if let smtpd = readPID(directory.appendingPathComponent("smtpd/smtpd.pid").path),
                ProcessTable.commandLine(smtpd).contains("smtpd")
            {
                targets.append(.init(pid: smtpd, reap: nil))
            }
            ProcessTable.terminate(targets, grace: .seconds(5))
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// The first integer in a file, if any.
    static func readPID(_ path: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
