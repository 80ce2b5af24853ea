import EntenteCore

/// One change to a shared object, as integrators (CRM connectors, dashboards) consume it from `Node.changes()`.
public struct Change: Hashable, Sendable {
    /// What changed.
    public enum Kind: Hashable, Sendable {
        /// The object arrived or was created.
        case created(type: String)
        /// The object is gone: the envelope that created it was refused after it had applied, because another
        /// of its operations turned out refused once that operation's object arrived (`Specs/crdt.md`, "Refusals
        /// first"). Replicas that saw the envelope refused at once never had the object.
        case removed(type: String)
        /// A company joined the object.
        case participantAdded(CompanyID)
        /// A company was removed from the object.
        case participantRemoved(CompanyID)
        /// The object was archived (true) or restored (false).
        case archived(Bool)
        /// Elements of a set field were added or removed.
        case elements(name: String, namespace: CompanyID?, added: [String], removed: [String])
        /// A field's value changed. `namespace` is nil for a joint field, else the company that owns the field.
        case field(name: String, namespace: CompanyID?, old: Value?, new: Value)
    }

    /// The object.
    public let object: ObjectID
    /// What changed.
    public let kind: Kind
    /// The company whose replica signed the change (for a relayed or re-sent value, the sender).
    public let company: CompanyID
    /// The change's timestamp.
    public let timestamp: Timestamp
    /// True if this node made the change; false if it arrived from a partner.
    public let isLocal: Bool
}

extension Node {
    /// A stream of every change this node commits from now on, local and imported, in commit order.
    /// Changes are delivered only after their transaction is durable. The stream ends when the caller stops
    /// iterating (or the node is released).
    public func changes() -> AsyncStream<Change> {
        let (stream, continuation) = AsyncStream.makeStream(of: Change.self, bufferingPolicy: .bufferingNewest(100_000))
        let id = nextSubscriber
        nextSubscriber += 1
        subscribers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(id) }
        }
        return stream
    }

    private func unsubscribe(_ id: Int) {
        subscribers[id] = nil
    }

    /// Records that `state` is gone (published on commit).
    func recordRemoval(of state: ObjectState) {
        guard !subscribers.isEmpty, let type = state.type else { return }
        pendingChanges.append(
            Change(
                object: state.id,
                kind: .removed(type: type),
                company: company,
                timestamp: state.created ?? Timestamp(physical: 0, counter: 0, replica: replica),
                isLocal: false
            )
        )
    }

    /// Records the differences between two states of the objects a batch touched (published on commit).
    func record(
        from previous: [ObjectID: ObjectState],
        to current: [ObjectID: ObjectState],
        author: CompanyID,
        isLocal: Bool
    ) {
        guard !subscribers.isEmpty else { return }
        for (id, state) in current {
            let before = previous[id]
            if before?.exists != true, let type = state.type, let created = state.created {
                pendingChanges.append(
                    Change(
                        object: id,
                        kind: .created(type: type),
                        company: author,
                        timestamp: created,
                        isLocal: isLocal
                    )
                )
            }
            let stamp = state.created ?? Timestamp(physical: 0, counter: 0, replica: replica)
            for company in state.participants.subtracting(before?.participants ?? []).sorted()
            where company != state.owner {
                pendingChanges.append(
                    Change(
                        object: id,
                        kind: .participantAdded(company),
                        company: author,
                        timestamp: state.joined(company) ?? stamp,
                        isLocal: isLocal
                    )
                )
            }
            for company in (before?.participants ?? []).subtracting(state.participants).sorted() {
                let removed = state.membership[company]?.last?.timestamp ?? stamp
                pendingChanges.append(
                    Change(
                        object: id,
                        kind: .participantRemoved(company),
                        company: author,
                        timestamp: removed,
                        isLocal: isLocal
                    )
                )
            }
            if let archived = state.archived, before?.isArchived != archived.value {
                pendingChanges.append(
                    Change(
                        object: id,
                        kind: .archived(archived.value),
                        company: author,
                        timestamp: archived.timestamp,
                        isLocal: isLocal
                    )
                )
            }
            func owner(_ key: FieldKey) -> CompanyID? {
                if case .company(let company) = key.namespace { return company }
                return nil
            }
            for (key, field) in state.fields.sorted(by: { $0.value.winner.timestamp < $1.value.winner.timestamp }) {
                let old = before?.fields[key]?.winner
                guard old != field.winner else { continue }
                pendingChanges.append(
                    Change(
                        object: id,
                        kind: .field(name: key.name, namespace: owner(key), old: old?.value, new: field.winner.value),
                        company: author,
                        timestamp: field.winner.timestamp,
                        isLocal: isLocal
                    )
                )
            }
            for (key, set) in state.sets.sorted(by: { $0.key < $1.key }) {
                let old = Set(before?.sets[key]?.members ?? [])
                let new = Set(set.members)
                guard old != new else { continue }
                pendingChanges.append(
                    Change(
                        object: id,
                        kind: .elements(
                            name: key.name,
                            namespace: owner(key),
                            added: new.subtracting(old).sorted(),
                            removed: old.subtracting(new).sorted()
                        ),
                        company: author,
                        timestamp: set.visibilityStamp,
                        isLocal: isLocal
                    )
                )
            }
        }
    }

    /// Delivers recorded changes after a successful commit, or drops them after a failed one.
    func flushChanges(committed: Bool) {
        defer { pendingChanges.removeAll() }
        guard committed else { return }
        for change in pendingChanges {
            for continuation in subscribers.values { continuation.yield(change) }
        }
    }
}
