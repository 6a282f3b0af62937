// MailMessage owns reading and writing RFC 5322/MIME messages; it does no I/O.
// It does not fetch, send, store or thread mail: those belong to MailClients, ServiceDesk and EmailChannel.
