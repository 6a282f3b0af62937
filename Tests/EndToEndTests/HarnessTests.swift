import Foundation
import MailServerHarness
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("MailServerHarness runs real Dovecot and OpenSMTPD")
struct HarnessTests {
    @Test("a message saved with doveadm shows up in the user's INBOX, unseen")
    func deliverAndInbox() async throws {
        let servers = try await MailServers.shared()
        let user = "harness-\(UUID().uuidString.prefix(8))@desk.test"
        try servers.addUser(user, password: "secret")
        #expect(try servers.inbox(of: user).isEmpty)

        try servers.deliver(Array("Subject: hello\r\nFrom: a@customer.test\r\n\r\nbody\r\n".utf8), to: user)

        let messages = try servers.inbox(of: user)
        #expect(messages.count == 1)
        #expect(messages.first?.uid == 1)
        #expect(messages.first?.raw.contains("Subject: hello") == true)
        #expect(messages.first?.hasFlag("\\Seen") == false)

        try servers.doveadm(["flags", "add", "-u", user, "\\Seen", "mailbox", "INBOX", "uid", "1"])
        #expect(try servers.inbox(of: user).first?.hasFlag("\\Seen") == true)
    }

    @Test("a new user can log in over IMAP and POP3 at once")
    func newUserLogsIn() async throws {
        let servers = try await MailServers.shared()
        let user = "login-\(UUID().uuidString.prefix(8))@customer.test"
        try servers.addUser(user, password: "pw-\(user.prefix(6))")

        let imap = try LineConnection(port: servers.imapPort)
        #expect(try imap.readLine().contains("Dovecot"))
        try imap.send("a1 LOGIN \(user) pw-\(user.prefix(6))\r\n")
        #expect(try imap.readLine(untilPrefix: "a1 ").hasPrefix("a1 OK"))

        let pop3 = try LineConnection(port: servers.pop3Port)
        #expect(try pop3.readLine().hasPrefix("+OK"))
        try pop3.send("USER \(user)\r\n")
        #expect(try pop3.readLine().hasPrefix("+OK"))
        try pop3.send("PASS wrong\r\n")
        #expect(try pop3.readLine().hasPrefix("-ERR"))
    }

    @Test("mail sent to OpenSMTPD is delivered into Dovecot by LMTP")
    func smtpDeliversIntoDovecot() async throws {
        let servers = try await MailServers.shared()
        // Upper case on purpose: delivery must not depend on the case of the address.
        let user = "smtp-\(UUID().uuidString.prefix(8))@Desk.Test"
        try servers.addUser(user, password: "secret")

        let smtp = try LineConnection(port: servers.smtpPort)
        #expect(try smtp.readReply().hasPrefix("220"))
        try smtp.send("EHLO client.test\r\n")
        #expect(try smtp.readReply().hasPrefix("250"))
        try smtp.send("MAIL FROM:<alice@customer.test>\r\n")
        #expect(try smtp.readReply().hasPrefix("250"))
        try smtp.send("RCPT TO:<\(user)>\r\n")
        #expect(try smtp.readReply().hasPrefix("250"))
        try smtp.send("DATA\r\n")
        #expect(try smtp.readReply().hasPrefix("354"))
        try smtp.send(
            "From: alice@customer.test\r\nTo: \(user)\r\nSubject: via smtp\r\n\r\n..dot-stuffed line\r\nbye\r\n.\r\n"
        )
        #expect(try smtp.readReply().hasPrefix("250"))
        try smtp.send("QUIT\r\n")

        let messages = try await servers.waitForMessages(1, in: user, timeout: .seconds(10))
        #expect(messages.count == 1)
        #expect(messages.first?.raw.contains("Subject: via smtp") == true)
        #expect(messages.first?.raw.contains("\n.dot-stuffed line\n") == true)
    }

    @Test("OpenSMTPD refuses mail for a domain it does not serve")
    func smtpRefusesForeignDomain() async throws {
        let servers = try await MailServers.shared()
        let smtp = try LineConnection(port: servers.smtpPort)
        _ = try smtp.readReply()
        // OpenSMTPD does not offer PIPELINING: one command at a time.
        try smtp.send("EHLO client.test\r\n")
        _ = try smtp.readReply()
        try smtp.send("MAIL FROM:<alice@customer.test>\r\n")
        _ = try smtp.readReply()
        try smtp.send("RCPT TO:<someone@elsewhere.invalid>\r\n")
        #expect(try smtp.readReply().hasPrefix("5"))
    }

    @Test("the TLS ports present a certificate for 127.0.0.1 signed by caFile")
    func tlsPortsPresentCertificate() async throws {
        let servers = try await MailServers.shared()
        for (port, greeting) in [(servers.imapsPort, "* OK"), (servers.pop3sPort, "+OK")] {
            let output = try runOpenSSLClient(port: port, caFile: servers.caFile)
            #expect(output.contains("Verify return code: 0 (ok)"), "port \(port): \(output)")
            #expect(output.contains(greeting), "port \(port)")
        }
    }

    @Test("a private instance starts on its own ports, restarts its servers and stops without leaving processes")
    func privateInstanceStartsAndStops() async throws {
        let shared = try await MailServers.shared()
        let clock = ContinuousClock()
        let startedAt = clock.now
        let servers = try await MailServers.start(domains: ["private.test"])
        let startDuration = clock.now - startedAt
        #expect(servers.imapPort != shared.imapPort)
        #expect(servers.smtpPort != shared.smtpPort)

        try servers.addUser("bob@private.test", password: "pw")
        try servers.deliver(Array("Subject: x\r\n\r\ny\r\n".utf8), to: "bob@private.test")
        #expect(try servers.inbox(of: "bob@private.test").count == 1)

        servers.stopSMTPServer()
        #expect(throws: (any Error).self) { try LineConnection(port: servers.smtpPort) }
        try await servers.restartSMTPServer()
        #expect(try LineConnection(port: servers.smtpPort).readReply().hasPrefix("220"))

        servers.stopMailStore()
        #expect(throws: (any Error).self) { try LineConnection(port: servers.imapPort) }
        try await servers.restartMailStore()
        #expect(try servers.inbox(of: "bob@private.test").count == 1)

        let stoppedAt = clock.now
        servers.stop()
        let stopDuration = clock.now - stoppedAt
        print("private MailServers: start \(startDuration), stop \(stopDuration)")
        #expect(throws: (any Error).self) { try LineConnection(port: servers.imapPort) }
        #expect(throws: (any Error).self) { try LineConnection(port: servers.smtpPort) }
        #expect(!FileManager.default.fileExists(atPath: servers.baseDirectory.path))
        #expect(throws: (any Error).self) { try servers.addUser("late@private.test", password: "pw") }
        // The shared instance is untouched.
        #expect(try LineConnection(port: shared.imapPort).readLine().contains("Dovecot"))
    }
}

/// `openssl s_client` against 127.0.0.1:port, verifying the chain and the IP address; its combined output.
private func runOpenSSLClient(port: Int, caFile: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = [
        "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", caFile, "-verify_ip", "127.0.0.1",
        "-verify_return_error",
    ]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = output
    try process.run()
    // Give the server time to greet after the handshake, then close stdin: s_client then closes and exits.
    Thread.sleep(forTimeInterval: 0.5)
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// A minimal blocking line-oriented TCP client on 127.0.0.1 (Glibc sockets), enough to script IMAP, POP3 and SMTP.
private final class LineConnection {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        fd = try LoopbackSocket.connect(port: port, timeoutSeconds: 10)
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        try LoopbackSocket.send(Array(text.utf8), to: fd, what: "the server")
    }

    /// One line without its CRLF.
    func readLine() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line.trimmingCharacters(in: .newlines)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw ConnectionError(message: "connection closed or timed out") }
            buffer.append(contentsOf: chunk[0..<count])
        }
    }

    /// Lines until one starts with `prefix`; returns that line.
    func readLine(untilPrefix prefix: String) throws -> String {
        while true {
            let line = try readLine()
            if line.hasPrefix(prefix) { return line }
        }
    }

    /// An SMTP reply (RFC 5321 §4.2: continuation lines have "-" after the code); returns its last line.
    func readReply() throws -> String {
        while true {
            let line = try readLine()
            if line.count < 4 || line[line.index(line.startIndex, offsetBy: 3)] != "-" { return line }
        }
    }
}

private struct ConnectionError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
