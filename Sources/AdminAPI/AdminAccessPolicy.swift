import ServiceDesk

#if canImport(Glibc)
    import Glibc
#endif

/// Who may use the admin socket: the server's own user, root, and the members of an optional
/// admin group (by primary group or by the group database's supplementary groups).
struct AdminAccessPolicy: Sendable {
    /// A group whose members may administer the server.
    struct Group: Sendable, Equatable {
        var name: String
        var gid: gid_t
    }

    var serverUID: uid_t
    var group: Group?

    /// The policy for this process, resolving `groupName` in the group database.
    init(groupName: String?) throws {
        serverUID = geteuid()
        guard let groupName else {
            group = nil
            return
        }
        guard let gid = GroupDatabase.groupID(named: groupName) else {
            throw DeskError(.invalid, "--admin-group \(groupName): no such group")
        }
        // chown(2) gives a file to a group only when root does it or the owner belongs to the group.
        if serverUID != 0 && getegid() != gid && !GroupDatabase.processGroups().contains(gid) {
            throw DeskError(
                .invalid,
                "--admin-group \(groupName): the server's user is not a member of that group, so it cannot give the admin socket to it"
            )
        }
        group = Group(name: groupName, gid: gid)
    }

    init(serverUID: uid_t, group: Group?) {
        self.serverUID = serverUID
        self.group = group
    }

    /// Nil when the peer may use the socket, else the one-line reason it may not.
    func refusal(for peer: PeerCredentials) -> String? {
        if peer.uid == serverUID || peer.uid == 0 { return nil }
        if let group,
            peer.gid == group.gid || GroupDatabase.memberGroups(uid: peer.uid, primary: peer.gid).contains(group.gid)
        {
            return nil
        }
        var allowed = serverUID == 0 ? "root" : "the server's user (uid \(serverUID)) and root"
        if let group { allowed += " and members of group \(group.name)" }
        return "permission denied: uid \(peer.uid) may not use this admin socket; only \(allowed) may"
    }
}
