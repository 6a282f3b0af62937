import Foundation
import MailServerHarness
import Testing

/// `postdesk channel import` through the real binary against real Dovecot: many mailboxes from one file, safe
/// to run again, the whole file checked before anything is linked, and each refused login reported in the
/// server's words.
@Suite("ChannelImport, end to end", .serialized, .timeLimit(.minutes(5)))
struct ChannelImportTests {
    struct ResultLine: Decodable {
        var line: Int
        var project: String
        var address: String
        var result: String
        var reason: String?
        var conflict: Bool
        var warnings: [String]
    }

    struct ChannelRow: Decodable, Equatable {
        var address: String
        var project: String
        var port: Int
        var linkedAt: Date
        var enabled: Bool
    }

    /// A user on the test Dovecot with its password in a file, for a `password-file` column.
    static func mailbox(_ address: String, password: String = "secret", in directory: URL, servers: MailServers)
        throws -> String
    {
        try servers.addUser(address, password: password)
        let file = directory.appendingPathComponent("\(address).password")
        try Data("\(password)\n".utf8).write(to: file)
        return file.path
    }

    static func results(_ output: String) throws -> [ResultLine] {
        try output.split(separator: "\n").map { try JSONDecoder().decode(ResultLine.self, from: Data($0.utf8)) }
    }

    static func directory(for desk: PostdeskProcess) throws -> URL {
        let directory = desk.dataDirectory.appendingPathComponent("import")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test(
        "20 mailboxes from CSV and 5 from JSON lines are linked, their mail becomes requests, and a rerun changes nothing"
    )
    func importAndRerun() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let desk = try PostdeskProcess()
        try await desk.start()
        try desk.createProject("IA", name: "Import A", signup: "public")
        try desk.createProject("IB", name: "Import B", signup: "public")
        let directory = try Self.directory(for: desk)

        // CSV, as a spreadsheet writes it: CRLF, a byte order mark, quoted cells, an empty cell, three POP3 rows.
        var csv = "\u{FEFF}project,address,protocol,host,port,tls,username,password-file,request-type\r\n"
        var csvAddresses: [String] = []
        for index in 0..<20 {
            let address = "imp\(index)-\(tag)@desk.test"
            let passwordFile = try Self.mailbox(address, in: directory, servers: servers)
            let pop3 = index >= 17
            let port = pop3 ? servers.pop3Port : servers.imapPort
            let username = index % 2 == 0 ? "\"\(address)\"" : ""
            csv +=
                "IA,\(address),\(pop3 ? "pop3" : "imap"),127.0.0.1,\(port),none,\(username),\"\(passwordFile)\",Help\r\n"
            csvAddresses.append(address)
        }
        let csvFile = directory.appendingPathComponent("mailboxes.csv")
        try Data(csv.utf8).write(to: csvFile)

        // JSON lines without an extension: recognised by its content. Numbers are numbers, a list is a list.
        var jsonLines = ""
        var jsonAddresses: [String] = []
        for index in 0..<5 {
            let address = "json\(index)-\(tag)@desk.test"
            let passwordFile = try Self.mailbox(address, in: directory, servers: servers)
            let extra = index == 0 ? ", \"extra-address\": [\"alias-\(tag)@desk.test\"]" : ""
            jsonLines +=
                "{\"project\": \"IB\", \"address\": \"\(address)\", \"host\": \"127.0.0.1\", \"port\": \(servers.imapPort), "
                + "\"tls\": \"none\", \"password-file\": \"\(passwordFile)\", \"request-type\": \"Help\"\(extra)}\n"
            if index == 2 { jsonLines += "\n" }
            jsonAddresses.append(address)
        }
        let jsonFile = directory.appendingPathComponent("more-mailboxes")
        try Data(jsonLines.utf8).write(to: jsonFile)

        let first = try desk.run(["channel", "import", csvFile.path, "--json"])
        #expect(first.status == 0, "\(first.out)\(first.err)")
        #expect(first.err.contains("CSV (by its extension), 20 rows"), "\(first.err)")
        let linked = try Self.results(first.out)
        #expect(linked.map(\.line) == Array(2...21))
        #expect(linked.allSatisfy { $0.result == "linked" && $0.project == "IA" }, "\(first.out)")
        #expect(linked.filter { $0.warnings.contains { $0.contains("POP3 deletes") } }.count == 3)

        let second = try desk.run(["channel", "import", jsonFile.path, "--concurrency", "2"])
        #expect(second.status == 0, "\(second.out)\(second.err)")
        #expect(second.err.contains("JSON lines (by its content), 5 rows"), "\(second.err)")
        #expect(second.out.contains("5 rows: 5 linked, 0 already linked, 0 failed"), "\(second.out)")
        // The blank line after the third object counts: the fourth object is on line 5.
        #expect(second.out.contains("5     IB       json3-\(tag)@desk.test"), "\(second.out)")

        let channels = try desk.json([ChannelRow].self, ["channel", "list"])
        #expect(Set(channels.map(\.address)) == Set(csvAddresses + jsonAddresses))

        // Mail delivered after linking becomes a request in each mailbox's project.
        for address in csvAddresses + jsonAddresses {
            try servers.deliver(
                Array("From: c-\(tag)@customer.test\r\nSubject: Hello \(address)\r\n\r\nHi\r\n".utf8), to: address)
        }
        for (project, addresses) in [("IA", csvAddresses), ("IB", jsonAddresses)] {
            _ = try await desk.eventually("\(addresses.count) requests in \(project)", timeout: .seconds(60)) {
                let summaries = Set(try desk.json([QueueRow].self, ["queue", project]).map(\.summary))
                return Set(addresses.map { "Hello \($0)" }).isSubset(of: summaries) ? true : nil
            }
        }

        // Run both again: nothing is linked twice, nothing changes, every watermark stays (linkedAt is the same).
        let again = try desk.run(["channel", "import", csvFile.path, "--json"])
        #expect(again.status == 0, "\(again.out)\(again.err)")
        #expect(try Self.results(again.out).allSatisfy { $0.result == "already-linked" }, "\(again.out)")
        let againJSON = try desk.run(["channel", "import", jsonFile.path])
        #expect(againJSON.status == 0)
        #expect(againJSON.out.contains("already linked, unchanged"))
        #expect(againJSON.out.contains("5 rows: 0 linked, 5 already linked, 0 failed"), "\(againJSON.out)")
        #expect(try desk.json([ChannelRow].self, ["channel", "list"]) == channels)

        // The same address with another port is a conflict that says what differs, and is left as it is.
        let changed = directory.appendingPathComponent("changed.csv")
        try Data(
            (csv.components(separatedBy: "\r\n").prefix(2).joined(separator: "\r\n") + "\r\n")
                .replacingOccurrences(of: ",\(servers.imapPort),", with: ",\(servers.imapsPort),").utf8
        ).write(to: changed)
        let conflict = try desk.run(["channel", "import", changed.path, "--json"])
        #expect(conflict.status != 0)
        let row = try #require(try Self.results(conflict.out).first)
        #expect(row.result == "failed" && row.conflict, "\(conflict.out)")
        #expect(
            row.reason?.contains("port: linked \(servers.imapPort), asked \(servers.imapsPort)") == true,
            "\(conflict.out)")
        #expect(try desk.json([ChannelRow].self, ["channel", "list"]) == channels)
        try await desk.stop()
    }

    @Test("one bad row: the error names its line and column, and nothing is linked")
    func badRowLinksNothing() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let desk = try PostdeskProcess()
        try await desk.start()
        try desk.createProject("IC", name: "Import C", signup: "public")
        let directory = try Self.directory(for: desk)
        var rows: [String] = []
        for index in 0..<4 {
            let address = "bad\(index)-\(tag)@desk.test"
            let passwordFile = try Self.mailbox(address, in: directory, servers: servers)
            rows.append("IC,\(address),127.0.0.1,\(servers.imapPort),none,\(passwordFile),Help")
        }
        let header = "project,address,host,port,tls,password-file,request-type"

        // Not a number: caught while reading the file, as `channel add --port` would refuse it.
        var notNumber = rows
        notNumber[2] = notNumber[2].replacingOccurrences(of: ",\(servers.imapPort),", with: ",99x,")
        let file = directory.appendingPathComponent("bad.csv")
        try Data(([header] + notNumber).joined(separator: "\n").utf8).write(to: file)
        let refused = try desk.run(["channel", "import", file.path])
        #expect(refused.status != 0)
        #expect(refused.err.contains("line 4, column port:"), "\(refused.err)")
        #expect(refused.err.contains("99x"), "\(refused.err)")
        #expect(refused.err.contains("nothing was linked"), "\(refused.err)")

        // Out of range, and an unknown project: caught by the server before it links any row.
        var outOfRange = rows
        outOfRange[1] = outOfRange[1].replacingOccurrences(of: ",\(servers.imapPort),", with: ",70000,")
        outOfRange[3] = outOfRange[3].replacingOccurrences(of: "IC,", with: "NOPE,")
        try Data(([header] + outOfRange).joined(separator: "\r\n").utf8).write(to: file)
        let judged = try desk.run(["channel", "import", file.path])
        #expect(judged.status != 0)
        #expect(judged.err.contains("2 of 4 rows cannot be linked as written, so nothing was linked"), "\(judged.err)")
        #expect(judged.err.contains("line 3 (bad1-\(tag)@desk.test): port 70000 is out of range"), "\(judged.err)")
        #expect(judged.err.contains("line 5 (bad3-\(tag)@desk.test): unknown project NOPE"), "\(judged.err)")

        // An unknown column is named with the columns that exist.
        try Data(
            (["project,address,hostname,request-type", "IC,x-\(tag)@desk.test,h,Help"]).joined(separator: "\n").utf8
        )
        .write(to: file)
        let unknown = try desk.run(["channel", "import", file.path])
        #expect(unknown.status != 0)
        #expect(unknown.err.contains("unknown column \"hostname\""), "\(unknown.err)")
        #expect(unknown.err.contains("password-file"), "\(unknown.err)")

        #expect(try desk.json([ChannelRow].self, ["channel", "list"]).isEmpty)
        try await desk.stop()
    }

    @Test("a row whose login the server refuses fails in the server's words; the others are linked; exit non-zero")
    func refusedLogin() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let desk = try PostdeskProcess()
        try await desk.start()
        try desk.createProject("ID", name: "Import D", signup: "public")
        let directory = try Self.directory(for: desk)
        var lines = ["project,address,host,port,tls,password-file,request-type"]
        var addresses: [String] = []
        for index in 0..<4 {
            let address = "login\(index)-\(tag)@desk.test"
            var passwordFile = try Self.mailbox(address, in: directory, servers: servers)
            if index == 2 {
                passwordFile = directory.appendingPathComponent("wrong.password").path
                try Data("not-the-password\n".utf8).write(to: URL(fileURLWithPath: passwordFile))
            }
            lines.append("ID,\(address),127.0.0.1,\(servers.imapPort),none,\(passwordFile),Help")
            addresses.append(address)
        }
        let file = directory.appendingPathComponent("login.csv")
        try Data(lines.joined(separator: "\n").utf8).write(to: file)
        let result = try desk.run(["channel", "import", file.path])
        #expect(result.status != 0)
        #expect(result.out.contains("4 rows: 3 linked, 0 already linked, 1 failed"), "\(result.out)")
        let failedLine = try #require(result.out.split(separator: "\n").first { $0.hasPrefix("4 ") })
        #expect(failedLine.contains("failed:"), "\(result.out)")
        #expect(failedLine.contains("Authentication failed"), "\(result.out)")
        let channels = try desk.json([ChannelRow].self, ["channel", "list"])
        #expect(Set(channels.map(\.address)) == Set(addresses.enumerated().filter { $0.offset != 2 }.map(\.element)))

        // With the right password the rerun links the one that failed, and only that one.
        let wrong = directory.appendingPathComponent("wrong.password").path
        let right = directory.appendingPathComponent("\(addresses[2]).password").path
        try Data(lines.joined(separator: "\n").replacingOccurrences(of: wrong, with: right).utf8).write(to: file)
        let rerun = try desk.run(["channel", "import", file.path])
        #expect(rerun.status == 0, "\(rerun.out)\(rerun.err)")
        #expect(rerun.out.contains("4 rows: 1 linked, 3 already linked, 0 failed"), "\(rerun.out)")
        try await desk.stop()
    }
}
