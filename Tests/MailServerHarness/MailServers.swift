import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Real Dovecot + OpenSMTPD for one test process.
///
/// Dovecot serves IMAP, IMAPS, POP3, POP3S and submission on 127.0.0.1 and takes LMTP on a Unix socket; OpenSMTPD
/// takes SMTP on 127.0.0.1 and delivers every address of its domains into Dovecot by LMTP. Each instance lives in its own
/// temporary directory with its own ports, users and TLS certificate. Needs root (OpenSMTPD runs in a private
/// mount namespace) and the Debian packages that `scripts/install-deps.sh` installs.
public final class MailServers: Sendable {
    /// IMAP (plain, STARTTLS offered) port on 127.0.0.1.
    public let imapPort: Int
    /// IMAP over implicit TLS port on 127.0.0.1.
    public let imapsPort: Int
    /// POP3 (plain, STLS offered) port on 127.0.0.1.
    public let pop3Port: Int
    /// POP3 over implicit TLS port on 127.0.0.1.
    public let pop3sPort: Int
    /// SMTP port on 127.0.0.1 (no TLS, no authentication; accepts mail for `domains`).
    public let smtpPort: Int
    /// Dovecot's submission port on 127.0.0.1 (RFC 6409): STARTTLS with `caFile`'s certificate, AUTH PLAIN/LOGIN
    /// for password users and XOAUTH2/OAUTHBEARER for the oauth2 passdb's users; relays into OpenSMTPD.
    public let submissionPort: Int
    /// PEM of the CA that signed the TLS listeners' certificate (valid for 127.0.0.1 and localhost).
    public let caFile: String
    /// The instance's temporary directory (removed by `stop()` unless `POSTDESK_KEEP_MAILSERVERS` is set).
    public let baseDirectory: URL
    /// The domains OpenSMTPD accepts.
    public let domains: [String]
    /// Dovecot's LMTP Unix socket.
    public let lmtpSocket: String
    /// Dovecot's log file.
    public let dovecotLog: String
    /// OpenSMTPD's log (its stderr).
    public let smtpdLog: String
    /// The oauth2 passdb this instance was started with, if any.
    public let oauth2: OAuth2Passdb?

    private let layout: InstanceLayout
    private let state = InstanceState()

    /// The mutable part of an instance, guarded by one lock.
    private final class InstanceState: @unchecked Sendable {
        let lock = NSLock()
        var smtpd: ChildProcess?
        var dovecotMaster: pid_t?
        var stopped = false
    }

    private init(layout: InstanceLayout) {
        self.layout = layout
        imapPort = layout.ports.imap
        imapsPort = layout.ports.imaps
        pop3Port = layout.ports.pop3
        pop3sPort = layout.ports.pop3s
        smtpPort = layout.ports.smtp
        submissionPort = layout.ports.submission
        caFile = layout.caFile
        baseDirectory = layout.base
        domains = layout.domains
        lmtpSocket = layout.lmtpSocket
        dovecotLog = layout.dovecotLog
        smtpdLog = layout.smtpdLog
        oauth2 = layout.oauth2
    }

    // MARK: Start and stop

    /// One shared instance per test process, started on first use (thread-safe). Stopped at process exit.
    ///
    /// Do not call `stop()` on it; use `start()` for tests that stop or restart servers.
    public static func shared() async throws -> MailServers {
        try await InstanceRegistry.shared.sharedServers()
    }

    /// A private instance (for tests that kill/restart servers). Stopped by `stop()` or at process exit.
    ///
    /// - Parameters:
    ///   - domains: the mail domains OpenSMTPD accepts and delivers into Dovecot.
    ///   - lmtpRoutes: further domains OpenSMTPD delivers to the test's own LMTP listeners.
    ///   - oauth2: an oauth2 passdb for one more domain, whose users log in with XOAUTH2/OAUTHBEARER tokens
    ///     (`addOAuthUser`); the users of `domains` keep their passwords.
    public static func start(
        domains: [String] = MailServerHarness.defaultDomains, lmtpRoutes: [LMTPRoute] = [],
        oauth2: OAuth2Passdb? = nil
    ) async throws -> MailServers {
        try checkPrerequisites()
        guard !domains.isEmpty, domains.allSatisfy(isPlainToken) else {
            throw MailServerHarnessError(.invalidArgument, "domains must be non-empty plain names: \(domains)")
        }
        guard
            lmtpRoutes.allSatisfy({
                isPlainToken($0.domain) && !$0.destination.contains("\"") && !$0.destination.contains("\n")
            })
        else {
            throw MailServerHarnessError(.invalidArgument, "LMTP routes need plain domains and destinations")
        }
        if let oauth2 {
            let plain = [oauth2.introspectionURL, oauth2.clientID, oauth2.clientSecret].allSatisfy {
                !$0.isEmpty && !$0.contains(where: { $0.isWhitespace || $0 == "#" || $0 == "\"" })
            }
            guard plain, isPlainToken(oauth2.domain), !domains.contains(oauth2.domain),
                !oauth2.clientID.contains(":"), !oauth2.clientID.contains("@"), !oauth2.clientSecret.contains("@")
            else {
                throw MailServerHarnessError(
                    .invalidArgument, "the oauth2 passdb needs plain values and a domain of its own")
            }
        }
        let attempts = 3
        for attempt in 1...attempts {
            let layout = InstanceLayout(
                base: try makeBaseDirectory(),
                ports: try .free(),
                domains: domains,
                instanceName: "postdesk-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())",
                lmtpRoutes: lmtpRoutes,
                oauth2: oauth2
            )
            let servers = MailServers(layout: layout)
            InstanceRegistry.shared.register(servers)
            do {
                try await servers.launch()
                return servers
            } catch let error as MailServerHarnessError where error.code == .portClash && attempt < attempts {
                servers.stop(removingDirectory: true)
            } catch {
                servers.stop(removingDirectory: false)
                throw error
            }
        }
        throw MailServerHarnessError(.portClash, "ports kept clashing after \(attempts) attempts")
    }

    /// Stops both servers (and every process they started) and removes `baseDirectory`. Idempotent.
    public func stop() {
        let keep = ProcessInfo.processInfo.environment["POSTDESK_KEEP_MAILSERVERS"] != nil
        stop(removingDirectory: !keep)
    }

    private func stop(removingDirectory: Bool) {
        let (smtpd, master, alreadyStopped) = state.lock.withLock {
            defer {
                state.stopped = true
                state.smtpd = nil
                state.dovecotMaster = nil
            }
            return (state.smtpd, state.dovecotMaster, state.stopped)
        }
        InstanceRegistry.shared.unregister(self)
        guard !alreadyStopped else { return }
        var targets: [ProcessTable.Target] = []
        if let smtpd { targets.append(.init(pid: smtpd.pid, reap: { _ = smtpd.poll() })) }
        if let master = master ?? InstanceRegistry.readPID(layout.masterPIDFile) ?? dovecotMasterByCommandLine() {
            targets.append(.init(pid: master, reap: nil))
        }
        ProcessTable.terminate(targets, grace: .seconds(10))
        if removingDirectory { try? FileManager.default.removeItem(at: baseDirectory) }
    }

    /// Stops OpenSMTPD only (its spool is kept), e.g. to test how a client copes with a dead SMTP server.
    public func stopSMTPServer() {
        let smtpd = state.lock.withLock {
            defer { state.smtpd = nil }
            return state.smtpd
        }
        guard let smtpd else { return }
        ProcessTable.terminate([.init(pid: smtpd.pid, reap: { _ = smtpd.poll() })], grace: .seconds(10))
    }

    /// Starts OpenSMTPD again on the same port after `stopSMTPServer()`.
    public func restartSMTPServer() async throws {
        try ensureRunning()
        guard state.lock.withLock({ state.smtpd == nil }) else { return }
        try await launchSMTPServer()
    }

    /// Stops Dovecot only (mailboxes are kept), e.g. to test reconnects.
    public func stopMailStore() {
        let master = state.lock.withLock {
            defer { state.dovecotMaster = nil }
            return state.dovecotMaster
        }
        guard let master else { return }
        ProcessTable.terminate([.init(pid: master, reap: nil)], grace: .seconds(10))
    }

    /// Starts Dovecot again on the same ports after `stopMailStore()`.
    public func restartMailStore() async throws {
        try ensureRunning()
        guard state.lock.withLock({ state.dovecotMaster == nil }) else { return }
        try await launchDovecot()
    }

    // MARK: Users and mailboxes

    /// Creates a mail user (any address at any domain) with a password; usable at once over IMAP, POP3 and SMTP
    /// delivery. Addresses are lower-cased (Dovecot lower-cases login names). Adding an existing address changes its
    /// password, which Dovecot may only notice a second later.
    public func addUser(_ address: String, password: String) throws {
        try ensureRunning()
        let address = try Self.normalized(address)
        guard !password.isEmpty, !password.contains(where: { $0 == ":" || $0.isNewline }) else {
            throw MailServerHarnessError(.invalidArgument, "a password must be non-empty, without ':' or newlines")
        }
        try state.lock.withLock {
            try createHome(of: address)
            // Written whole and renamed, so Dovecot never reads a half-written file.
            let file = layout.passwdFile(of: address)
            let temporary = layout.scratchDirectory.appendingPathComponent("passwd-\(UUID().uuidString)").path
            guard
                FileManager.default.createFile(
                    atPath: temporary, contents: Data("\(address):{PLAIN}\(password)::::::\n".utf8)),
                chmod(temporary, 0o644) == 0,
                rename(temporary, file) == 0
            else {
                unlink(temporary)
                throw MailServerHarnessError(.commandFailed, "could not write \(file)")
            }
        }
    }

    /// Installs a Sieve script (RFC 5228) for a user; LMTP delivery runs it from the next mail on.
    /// Needs Pigeonhole (Debian dovecot-sieve); throws `.notInstalled` without it.
    public func setSieveScript(_ script: String, for address: String) throws {
        guard InstanceLayout.hasSieve else {
            throw MailServerHarnessError(.notInstalled, "Sieve needs the Debian package dovecot-sieve")
        }
        let address = try Self.normalized(address)
        try createHome(of: address)
        let file = layout.home(of: address) + "/.dovecot.sieve"
        try write(script, to: file)
        // Delivery runs as the mail user, who compiles the script next to it.
        let uid = getpwnam("nobody")?.pointee.pw_uid ?? 65534
        let gid = getgrnam("nogroup")?.pointee.gr_gid ?? 65534
        guard chown(file, uid, gid) == 0 else {
            throw MailServerHarnessError(.commandFailed, "chown \(file) failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Puts a raw message straight into a user's INBOX (`doveadm save`), without SMTP.
    public func deliver(_ raw: [UInt8], to address: String) throws {
        let address = try Self.normalized(address)
        _ = try doveadm(["save", "-u", address, "-m", "INBOX"], input: raw)
    }

    /// The messages in a user's INBOX with their flags, in UID order (`doveadm fetch`). Throws for an unknown user.
    public func inbox(of address: String) throws -> [HarnessMessage] {
        try messages(in: "INBOX", of: address)
    }

    /// The messages in one mailbox of a user, with their flags, in UID order (`doveadm fetch`).
    public func messages(in mailbox: String, of address: String) throws -> [HarnessMessage] {
        let address = try Self.normalized(address)
        let output = try doveadm(["-f", "json", "fetch", "-u", address, "uid flags text", "mailbox", mailbox])
        guard let rows = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: String]] else {
            throw MailServerHarnessError(.commandFailed, "doveadm fetch printed something that is not a JSON list")
        }
        return rows.compactMap { row in
            guard let uid = row["uid"].flatMap({ Int($0) }) else { return nil }
            let flags = (row["flags"] ?? "").split(separator: " ").map(String.init)
            return HarnessMessage(uid: uid, flags: flags, raw: row["text"] ?? "")
        }.sorted { $0.uid < $1.uid }
    }

    /// Waits until the INBOX of `address` has at least `count` messages (polling every 50 ms), or throws when
    /// `timeout` passes.
    public func waitForMessages(_ count: Int, in address: String, timeout: Duration) async throws -> [HarnessMessage] {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let messages = try inbox(of: address)
            if messages.count >= count { return messages }
            guard clock.now < deadline else {
                throw MailServerHarnessError(
                    .timeout,
                    "INBOX of \(address) has \(messages.count) of \(count) messages after \(timeout); "
                        + "see \(smtpdLog) and \(dovecotLog)"
                )
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Runs `doveadm -c <this instance's config> arguments…` and returns its standard output.
    ///
    /// For what the other methods do not cover, e.g. `["flags", "add", "-u", user, "\\Seen", "mailbox", "INBOX",
    /// "uid", "1"]` or `["mailbox", "create", "-u", user, "Archive"]`.
    @discardableResult
    public func doveadm(_ arguments: [String], input: [UInt8]? = nil) throws -> String {
        try ensureRunning()
        let output = try ChildProcess.run(
            "/usr/bin/doveadm",
            ["-c", layout.dovecotConfig] + arguments,
            input: input,
            scratchDirectory: layout.scratchDirectory
        )
        guard output.termination == .exited(0) else {
            throw MailServerHarnessError(
                .commandFailed,
                "doveadm \(arguments.prefix(1).joined()) failed (\(output.termination)): "
                    + "\(output.stderr.trimmingCharacters(in: .whitespacesAndNewlines)); see \(dovecotLog)"
            )
        }
        return String(decoding: output.stdout, as: UTF8.self)
    }

    /// Runs `smtpctl arguments…` against this instance's OpenSMTPD, inside its mount namespace (where its control
    /// socket is), e.g. `["schedule", "all"]` to retry queued mail now, or `["show", "queue"]`.
    @discardableResult
    public func smtpctl(_ arguments: [String]) throws -> String {
        try ensureRunning()
        guard let pid = state.lock.withLock({ state.smtpd?.pid }) else {
            throw MailServerHarnessError(.stopped, "OpenSMTPD is not running")
        }
        let output = try ChildProcess.run(
            "/usr/bin/nsenter", ["-t", String(pid), "-m", "/usr/sbin/smtpctl"] + arguments,
            scratchDirectory: layout.scratchDirectory)
        guard output.termination == .exited(0) else {
            throw MailServerHarnessError(
                .commandFailed,
                "smtpctl \(arguments.joined(separator: " ")) failed (\(output.termination)): "
                    + "\(output.stderr.trimmingCharacters(in: .whitespacesAndNewlines)); see \(smtpdLog)"
            )
        }
        return String(decoding: output.stdout, as: UTF8.self)
    }

    // MARK: Internals

    private func ensureRunning() throws {
        if state.lock.withLock({ state.stopped }) {
            throw MailServerHarnessError(.stopped, "this MailServers instance was stopped")
        }
    }

    private static func normalized(_ address: String) throws -> String {
        let address = address.lowercased()
        guard address.contains("@"), isPlainToken(address), !address.hasPrefix(".") else {
            throw MailServerHarnessError(
                .invalidArgument,
                "'\(address)' is not a plain address (no spaces, ':', '/', quotes or control characters)"
            )
        }
        return address
    }

    private static func isPlainToken(_ text: String) -> Bool {
        !text.isEmpty
            && text.unicodeScalars.allSatisfy { scalar in
                scalar.value > 0x20 && scalar.value < 0x7f && !":/\\\"'<>,;{}%".unicodeScalars.contains(scalar)
            }
    }

    /// The directory under which instance directories are made: `$TMPDIR`, unless OpenSMTPD's bind mounts
    /// (over /run and /var/spool) would hide it from the Dovecot LMTP socket; then /tmp.
    static var temporaryRoot: URL {
        let candidate = FileManager.default.temporaryDirectory.resolvingSymlinksInPath()
        let path = candidate.path
        if path.hasPrefix("/run") || path.hasPrefix("/var/run") || path.hasPrefix("/var/spool") {
            return URL(fileURLWithPath: "/tmp")
        }
        return candidate
    }

    private static func makeBaseDirectory() throws -> URL {
        try makeTemporaryDirectory(prefix: MailServerHarness.directoryPrefix)
    }

    /// A new directory `<temporaryRoot>/<prefix>XXXXXX`, mode 0755 so that servers running as their own users can
    /// traverse it.
    static func makeTemporaryDirectory(prefix: String) throws -> URL {
        let template = temporaryRoot.appendingPathComponent(prefix + "XXXXXX").path
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else {
            throw MailServerHarnessError(
                .startFailed, "mkdtemp(\(template)) failed: \(String(cString: strerror(errno)))")
        }
        let base = URL(fileURLWithPath: String(cString: made))
        // Dovecot's login and auth processes run as dovecot/dovenull and must traverse it.
        chmod(base.path, 0o755)
        return base
    }

    private static func checkPrerequisites() throws {
        let tools = [
            ("/usr/sbin/dovecot", "dovecot-imapd, dovecot-pop3d, dovecot-lmtpd"),
            ("/usr/bin/doveadm", "dovecot-core"),
            ("/usr/sbin/smtpd", "opensmtpd"),
            ("/usr/bin/openssl", "openssl"),
            ("/usr/bin/unshare", "util-linux"),
            ("/bin/bash", "bash"),
        ]
        let missing = tools.filter { !FileManager.default.isExecutableFile(atPath: $0.0) }
        if !missing.isEmpty {
            throw MailServerHarnessError(
                .notInstalled,
                "missing \(missing.map { "\($0.0) (package \($0.1))" }.joined(separator: ", ")): "
                    + "\(MailServerHarness.installHint)"
            )
        }
        let lmtp = "/usr/lib/dovecot/lmtp"
        let pop3 = "/usr/lib/dovecot/pop3"
        let imap = "/usr/lib/dovecot/imap"
        let missingParts = [(imap, "dovecot-imapd"), (pop3, "dovecot-pop3d"), (lmtp, "dovecot-lmtpd")]
            .filter { !FileManager.default.isExecutableFile(atPath: $0.0) }
        if !missingParts.isEmpty {
            throw MailServerHarnessError(
                .notInstalled,
                "missing \(missingParts.map { "\($0.0) (package \($0.1))" }.joined(separator: ", ")): "
                    + "\(MailServerHarness.installHint)"
            )
        }
        let submission = "/usr/lib/dovecot/submission"
        if !FileManager.default.isExecutableFile(atPath: submission) {
            throw MailServerHarnessError(
                .notInstalled,
                "missing \(submission): Dovecot's submission service needs the Debian package dovecot-submissiond; "
                    + "\(MailServerHarness.installHint)"
            )
        }
        guard geteuid() == 0 else {
            throw MailServerHarnessError(
                .startFailed,
                "the mail server tests need root (OpenSMTPD runs in a private mount namespace); run them as root"
            )
        }
    }

    /// Brings up both servers in a fresh directory.
    private func launch() async throws {
        let manager = FileManager.default
        for directory in [
            layout.scratchDirectory.path, layout.dovecotDirectory, layout.passwdDirectory, layout.usersDirectory,
            layout.tlsDirectory,
            layout.smtpdDirectory, layout.smtpdSpool, layout.smtpdRun,
        ] {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            chmod(directory, 0o755)
        }
        chmod(layout.tlsDirectory, 0o700)
        try write("\(getpid())\n", to: layout.ownerPIDFile)
        try makeCertificates()
        try write(layout.dovecotConfigText, to: layout.dovecotConfig)
        if let oauth2 = layout.oauth2 { try write(oauth2.configText, to: layout.oauth2Config, mode: 0o600) }
        try write(layout.smtpdConfigText, to: layout.smtpdConfig)
        try write(layout.smtpdVirtualUsersText, to: layout.smtpdVirtualUsers)
        try await launchDovecot()
        try await launchSMTPServer()
    }

    private func write(_ text: String, to path: String, mode: mode_t = 0o644) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw MailServerHarnessError(.startFailed, "could not write \(path)")
        }
        chmod(path, mode)
    }

    /// A throw-away CA and a server certificate it signed, for 127.0.0.1 and localhost.
    private func makeCertificates() throws {
        try write(layout.opensslConfigText, to: layout.opensslConfig)
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(
            ["req", "-x509", "-config", layout.opensslConfig, "-extensions", "ca_ext"] + key
                + ["-keyout", layout.caKey, "-out", layout.caFile, "-days", "30", "-subj", "/CN=postdesk test CA"]
        )
        try openssl(
            ["req", "-new", "-config", layout.opensslConfig] + key
                + ["-keyout", layout.serverKey, "-out", layout.serverRequest, "-subj", "/CN=localhost"]
        )
        try openssl([
            "x509", "-req", "-in", layout.serverRequest, "-CA", layout.caFile, "-CAkey", layout.caKey,
            "-set_serial", String(UInt32.random(in: 1...UInt32.max)), "-days", "30",
            "-extfile", layout.opensslConfig, "-extensions", "server_ext", "-out", layout.serverCertificate,
        ])
        chmod(layout.caFile, 0o644)
    }

    private func openssl(_ arguments: [String]) throws {
        let output = try ChildProcess.run(
            "/usr/bin/openssl", arguments, scratchDirectory: layout.scratchDirectory)
        guard output.termination == .exited(0) else {
            throw MailServerHarnessError(
                .startFailed,
                "openssl \(arguments.prefix(2).joined(separator: " ")) failed (\(output.termination)): "
                    + output.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            )
        }
    }

    /// Starts Dovecot (it daemonizes once its listeners are bound) and waits for its IMAP and POP3 greetings.
    private func launchDovecot() async throws {
        unlink(layout.masterPIDFile)
        let output = try ChildProcess.run(
            "/usr/sbin/dovecot", ["-c", layout.dovecotConfig], scratchDirectory: layout.scratchDirectory)
        // The daemonized master writes master.pid a moment after `dovecot` returns.
        var master: pid_t?
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while output.termination == .exited(0), clock.now < deadline {
            master = InstanceRegistry.readPID(layout.masterPIDFile) ?? dovecotMasterByCommandLine()
            if master != nil { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        state.lock.withLock { state.dovecotMaster = master }
        guard output.termination == .exited(0), master != nil else {
            let log = (try? String(contentsOfFile: layout.dovecotLog, encoding: .utf8)) ?? ""
            let text = output.stderr + log
            throw MailServerHarnessError(
                text.contains("Address already in use") ? .portClash : .startFailed,
                "dovecot -c \(layout.dovecotConfig) failed (\(output.termination)): "
                    + "\(Self.lastLines(text)); see \(layout.dovecotLog)"
            )
        }
        try await waitForGreeting(port: imapPort, containing: "Dovecot", server: "Dovecot IMAP", log: dovecotLog)
        try await waitForGreeting(port: pop3Port, containing: "Dovecot", server: "Dovecot POP3", log: dovecotLog)
        try await waitForGreeting(
            port: submissionPort, containing: "Dovecot", server: "Dovecot submission", log: dovecotLog)
    }

    /// Starts OpenSMTPD in the foreground, in a private mount namespace so that its compiled-in spool
    /// (/var/spool/smtpd) and control socket (/run/smtpd.sock) land in this instance's directory.
    private func launchSMTPServer() async throws {
        let command =
            "mount --bind '\(layout.smtpdSpool)' /var/spool && mount --bind '\(layout.smtpdRun)' /run "
            + "&& exec /usr/sbin/smtpd -d -f '\(layout.smtpdConfig)'"
        let smtpd = try ChildProcess.spawn(
            "/usr/bin/unshare",
            ["-m", "--propagation", "private", "/bin/bash", "-c", command],
            outputPath: layout.smtpdLog,
            newProcessGroup: true
        )
        state.lock.withLock { state.smtpd = smtpd }
        try write("\(smtpd.pid)\n", to: layout.smtpdPIDFile)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while clock.now < deadline {
            if let termination = smtpd.poll() {
                state.lock.withLock { state.smtpd = nil }
                let log = (try? String(contentsOfFile: layout.smtpdLog, encoding: .utf8)) ?? ""
                throw MailServerHarnessError(
                    log.contains("Address already in use") ? .portClash : .startFailed,
                    "smtpd exited at start (\(termination)): \(Self.lastLines(log)); see \(layout.smtpdLog)"
                )
            }
            if let banner = readBanner(port: smtpPort, timeout: .seconds(1)) {
                guard banner.hasPrefix("220 "), banner.contains("OpenSMTPD") else {
                    throw MailServerHarnessError(
                        .portClash, "port \(smtpPort) answers with someone else's greeting: \(banner)")
                }
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw MailServerHarnessError(
            .startFailed, "smtpd did not greet on 127.0.0.1:\(smtpPort) within 20 s; see \(layout.smtpdLog)")
    }

    private func waitForGreeting(port: Int, containing marker: String, server: String, log: String) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while clock.now < deadline {
            if let banner = readBanner(port: port, timeout: .seconds(1)) {
                guard banner.contains(marker) else {
                    throw MailServerHarnessError(
                        .portClash, "port \(port) answers with someone else's greeting: \(banner)")
                }
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw MailServerHarnessError(
            .startFailed, "\(server) did not greet on 127.0.0.1:\(port) within 20 s; see \(log)")
    }

    /// Creates a user's mail home, owned by nobody:nogroup (the uid Dovecot delivers as).
    private func createHome(of address: String) throws {
        let home = layout.home(of: address)
        if FileManager.default.fileExists(atPath: home) { return }
        guard mkdir(home, 0o700) == 0 || errno == EEXIST else {
            throw MailServerHarnessError(
                .commandFailed, "mkdir \(home) failed: \(String(cString: strerror(errno)))")
        }
        let uid = getpwnam("nobody")?.pointee.pw_uid ?? 65534
        let gid = getgrnam("nogroup")?.pointee.gr_gid ?? 65534
        guard chown(home, uid, gid) == 0 else {
            throw MailServerHarnessError(
                .commandFailed, "chown nobody:nogroup \(home) failed: \(String(cString: strerror(errno)))")
        }
    }

    /// This instance's Dovecot master found by its command line (`dovecot -c CONFIG`), for when master.pid is
    /// missing.
    private func dovecotMasterByCommandLine() -> pid_t? {
        ProcessTable.processes(withCommandLineContaining: "dovecot -c \(layout.dovecotConfig)").first
    }

    private static func lastLines(_ text: String, count: Int = 5) -> String {
        text.split(whereSeparator: \.isNewline).suffix(count).joined(separator: " | ")
    }
}
