// PostgresStore owns the PostgreSQL side of the desk's store: where the database is (a `postgres://` URL with
// libpq's `sslmode`), the connection pool and its migrations, and the mailbox leases through which several
// postdesk nodes share one desk, each mailbox with exactly one owner at a time.
import Foundation
import NIOSSL
import PostgresNIO
import ServiceDesk

/// How a connection to PostgreSQL uses TLS, as libpq's `sslmode` says it
/// (https://www.postgresql.org/docs/15/libpq-ssl.html#LIBPQ-SSL-PROTECTION).
public enum PostgresSSLMode: String, Sendable, CaseIterable {
    /// Plain TCP only.
    case disable
    /// TLS when the server offers it, plain otherwise; the certificate is not checked. libpq's default.
    case prefer
    /// TLS or nothing; the certificate is not checked (unless `sslrootcert` is given: then as `verify-ca`).
    case require
    /// TLS with a certificate that chains to `sslrootcert` (or the system's roots); the host name is not checked.
    case verifyCA = "verify-ca"
    /// TLS with a certificate that chains to `sslrootcert` (or the system's roots) and names the host.
    case verifyFull = "verify-full"
}

/// A PostgreSQL database given as a `postgres://user:password@host:port/database?sslmode=…` URL
/// (https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING).
public struct PostgresLocation: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: PostgresSSLMode
    /// `sslrootcert`: a PEM file of the CAs to trust instead of the system's.
    public var rootCertificateFile: String?
    /// `application_name`, shown in `pg_stat_activity`.
    public var applicationName: String?

    /// Parses a `postgres://` or `postgresql://` URL. Errors name the part that is wrong, never the password.
    public init(url text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw DeskError(.invalid, "a database URL starts with postgres:// (postgres://user@host:5432/database)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw DeskError(.invalid, "the database URL names no host (postgres://user@host:5432/database)")
        }
        // URLComponents keeps an IPv6 literal's brackets in `host`.
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw DeskError(.invalid, "the database URL's port is out of range") }
        guard let user = components.user.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw DeskError(.invalid, "the database URL names no user (postgres://user@host/database)")
        }
        self.user = user
        password = components.password.flatMap { $0.removingPercentEncoding }
        let path = (components.path.removingPercentEncoding ?? components.path).drop { $0 == "/" }
        guard !path.isEmpty, !path.contains("/") else {
            throw DeskError(.invalid, "the database URL names no database (postgres://user@host/database)")
        }
        database = String(path)
        var sslMode = PostgresSSLMode.prefer
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = PostgresSSLMode(rawValue: value) else {
                    let known = PostgresSSLMode.allCases.map(\.rawValue).joined(separator: ", ")
                    let hint = value == "allow" ? " (allow, plain first, is not offered: use prefer)" : ""
                    throw DeskError(.invalid, "sslmode=\(value) is not one of \(known)\(hint)")
                }
                sslMode = mode
            case "sslrootcert": rootCertificateFile = value
            case "application_name": applicationName = value
            default:
                throw DeskError(
                    .invalid,
                    "the database URL's parameter \(item.name) is not known (sslmode, sslrootcert, application_name)"
                )
            }
        }
        self.sslMode = sslMode
    }

    /// The URL without its password, for logs and `status`.
    public var redacted: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(shownHost):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }

    /// What `sslMode` asks of a connection: no TLS, TLS if offered, or TLS or nothing, with these settings.
    enum TLSChoice {
        case disable
        case prefer(TLSConfiguration)
        case require(TLSConfiguration)
    }

    /// The TLS choice for `sslMode`, with `rootCertificateFile` as the trust roots when given.
    func tlsChoice() throws -> TLSChoice {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let rootCertificateFile {
            guard FileManager.default.isReadableFile(atPath: rootCertificateFile) else {
                throw DeskError(.invalid, "sslrootcert \(rootCertificateFile) cannot be read")
            }
            configuration.trustRoots = .file(rootCertificateFile)
        }
        switch sslMode {
        case .disable:
            return .disable
        case .prefer:
            configuration.certificateVerification = .none
            return .prefer(configuration)
        case .require:
            // libpq: require with a root certificate file behaves as verify-ca.
            configuration.certificateVerification = rootCertificateFile == nil ? .none : .noHostnameVerification
            return .require(configuration)
        case .verifyCA:
            configuration.certificateVerification = .noHostnameVerification
            return .require(configuration)
        case .verifyFull:
            // The host is checked against the certificate: a name by SNI, an IP address against its IP entries.
            configuration.certificateVerification = .fullVerification
            return .require(configuration)
        }
    }

    /// The startup parameters the URL asks for (`application_name`), for the pool and the first connection alike.
    private var startupParameters: [(String, String)] {
        applicationName.map { [("application_name", $0)] } ?? []
    }

    /// postgres-nio's pool configuration for this location.
    public func clientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch try tlsChoice() {
            case .disable: .disable
            case .prefer(let configuration): .prefer(configuration)
            case .require(let configuration): .require(configuration)
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    /// postgres-nio's single-connection configuration for this location (the check `PostgresPool.open` makes first).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch try tlsChoice() {
            case .disable: .disable
            case .prefer(let configuration): .prefer(try NIOSSLContext(configuration: configuration))
            case .require(let configuration): .require(try NIOSSLContext(configuration: configuration))
            }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }
}
