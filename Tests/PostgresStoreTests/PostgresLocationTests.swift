import PostgresStore
import ServiceDesk
import Testing

/// `postgres://` URLs as libpq reads them: parts, percent-encoding, sslmode, and clear errors that never show the
/// password.
@Suite("PostgreSQL database URLs")
struct PostgresLocationTests {
    @Test(
        "a URL's parts, with percent-encoded user and password",
        arguments: [
            (
                "postgres://desk:s%40cret%2F1@db.example.com:6432/postdesk?sslmode=verify-full",
                "db.example.com", 6432, "desk", "s@cret/1", "postdesk", PostgresSSLMode.verifyFull
            ),
            ("postgresql://desk@127.0.0.1/desk", "127.0.0.1", 5432, "desk", nil, "desk", .prefer),
            ("postgres://a%20b@[::1]:5433/d?sslmode=disable", "::1", 5433, "a b", nil, "d", .disable),
            ("postgres://u:p@h/d?sslmode=require&application_name=node-1", "h", 5432, "u", "p", "d", .require),
            ("postgres://u@h/d?sslmode=verify-ca", "h", 5432, "u", nil, "d", .verifyCA),
        ] as [(String, String, Int, String, String?, String, PostgresSSLMode)])
    func parts(
        url: String, host: String, port: Int, user: String, password: String?, database: String, mode: PostgresSSLMode
    ) throws {
        let location = try PostgresLocation(url: url)
        #expect(location.host == host)
        #expect(location.port == port)
        #expect(location.user == user)
        #expect(location.password == password)
        #expect(location.database == database)
        #expect(location.sslMode == mode)
        #expect(!location.redacted.contains("cret"))
    }

    @Test(
        "a wrong URL is refused with what is wrong, never with its password",
        arguments: [
            ("mysql://u:topsecret@h/d", "postgres://"),
            ("postgres://u:topsecret@/d", "no host"),
            ("postgres://:topsecret@h/d", "no user"),
            ("postgres://u:topsecret@h", "no database"),
            ("postgres://u:topsecret@h/d/e", "no database"),
            ("postgres://u:topsecret@h/d?sslmode=allow", "use prefer"),
            ("postgres://u:topsecret@h/d?sslmode=strict", "sslmode=strict is not one of disable, prefer"),
            ("postgres://u:topsecret@h/d?connect_timeout=3", "connect_timeout is not known"),
            ("postgres://u:topsecret@h:0/d", "out of range"),
        ])
    func refused(url: String, reason: String) {
        #expect {
            try PostgresLocation(url: url)
        } throws: { error in
            let text = String(describing: error)
            return text.contains(reason) && !text.contains("topsecret")
        }
    }

    @Test("an sslrootcert that cannot be read is named when the connection is configured")
    func unreadableRootCertificate() throws {
        let location = try PostgresLocation(url: "postgres://u@h/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
        #expect(location.rootCertificateFile == "/nonexistent/ca.pem")
        #expect(throws: DeskError.self) { try location.clientConfiguration() }
    }
}
