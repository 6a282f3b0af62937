import Foundation
import Logging
import MailServerHarness
import Testing

@testable import MailClients

@Suite("POP3 AUTH LOGIN")
struct POP3SASLLoginTests {
    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    @Test("a server offering SASL LOGIN but not USER gets the user name and password as two base64 answers")
    func authLogin() async throws {
        let server = try FakeMailServer(
            .pop3(
                greeting: "+OK ready",
                [
                    .expect("CAPA", "+OK", "SASL LOGIN", "UIDL", "."),
                    .expect("AUTH LOGIN", "+ VXNlcm5hbWU6"),
                    .expect(Self.base64("help@desk.test"), "+ UGFzc3dvcmQ6"),
                    .expect(Self.base64("s3cret pass"), "+OK logged in"),
                    .expect("STAT", "+OK 0 0"),
                    .expect("QUIT", "+OK bye", then: .close),
                ]))
        defer { server.stop() }
        let endpoint = MailServerEndpoint(host: "127.0.0.1", port: server.port, tls: .none, commandTimeout: .seconds(5))
        let count = try await POP3Client.withConnection(to: endpoint, logger: Logger(label: "t")) { pop3 in
            try await pop3.login(MailCredentials(username: "help@desk.test", password: "s3cret pass"))
            let stat = try await pop3.stat()
            try await pop3.quit()
            return stat.count
        }
        #expect(count == 0)
        #expect(server.unexpectedLines.isEmpty)
    }
}
