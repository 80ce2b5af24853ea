import EntenteCore
import EntenteStore
import EntenteWire

/// A pinned company as the node knows it.
public struct Partner: Hashable, Sendable {
    /// The company id.
    public let company: CompanyID
    /// The name on its card.
    public let name: String
    /// Its network address, if its card has one.
    public let address: String?
    /// True for this node's own company.
    public let isSelf: Bool
}

extension Node {
    /// Pins a partner's card after checking its self-signature. Adding the same card again is harmless.
    /// - Throws: `.alreadyExists` if another pinned company has the same name, `.invalidArgument` for the
    ///   node's own card.
    @discardableResult
    public func addPartner(_ card: PartnerCard) throws(EntenteError) -> Partner {
        guard card.company != company else { throw EntenteError(.invalidArgument, "that is this node's own card") }
        return try transaction { tx in
            for known in try tx.companies()
            where known.id != card.company && known.name.lowercased() == card.name.lowercased() {
                throw EntenteError(
                    .alreadyExists,
                    "a different company named '\(known.name)' is already pinned (\(known.id.short))"
                )
            }
            if let known = try tx.company(card.company), known.card.signingKey != card.signingKey {
                throw EntenteError(.rejected, "company \(card.company.short) is pinned with another key")
            }
            try tx.saveCompany(card, isSelf: false)
            return Partner(company: card.company, name: card.name, address: card.address, isSelf: false)
        }
    }

    /// Every pinned company, this node's own first.
    public func partners(includingSelf: Bool = false) throws(EntenteError) -> [Partner] {
        try reading { tx in
            try tx.companies().filter { includingSelf || !$0.isSelf }.map {
                Partner(company: $0.id, name: $0.name, address: $0.card.address, isSelf: $0.isSelf)
            }
        }
    }

    /// Finds a pinned company by name (case-insensitive), full id, or unique id prefix of 6+ digits.
    public func partner(named text: String) throws(EntenteError) -> Partner {
        let all = try partners(includingSelf: true)
        if let match = all.first(where: { $0.name.lowercased() == text.lowercased() }) { return match }
        let needle = text.lowercased()
        let byID = all.filter { needle.count >= 6 && $0.company.hex.hasPrefix(needle) }
        if byID.count == 1 { return byID[0] }
        if byID.count > 1 { throw EntenteError(.ambiguous, "'\(text)' matches several companies; give more digits") }
        let known = all.filter { !$0.isSelf }.map(\.name).joined(separator: ", ")
        throw EntenteError(
            .unknownCompany,
            "no pinned partner named '\(text)'"
                + (known.isEmpty ? "; add one with `entente partner add CARD`" : " (known: \(known))")
        )
    }
}
