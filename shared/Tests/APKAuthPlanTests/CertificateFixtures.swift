/// Development fixtures (generated with `openssl req -x509` for these tests only; never trusted anywhere else): an
/// RSA-2048 certificate with its private key (to sign test tokens), a P-256 certificate and an RSA-1024 one (too
/// weak: refused).
enum CertificateFixtures {
    static let rsaCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIDHzCCAgegAwIBAgIUUpGCKBXLYcXclffj4fgTGb8zzYMwDQYJKoZIhvcNAQEL
        BQAwHjEcMBoGA1UEAwwTcGFydG5lci1pc3N1ZXIudGVzdDAgFw0yNjEyMDcxNTE3
        MzRaGA8yMTI2MTExMzE1MTczNFowHjEcMBoGA1UEAwwTcGFydG5lci1pc3N1ZXIu
        dGVzdDCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAObYKP0M0aKP5Wm7
        RMTz4Itda/uJeOHKc3LLC2q/hAaiIvqFfI1JdiYU+9zlfliSTzbCFqlfZPhGACIu
        3kRuQD0g8mwfXb3qxmtBE471s1X/5437Nci9KkNcxVO7ESxKY/t4FyOM29lQjp7e
        8RFY+Z7TPuVqmhD/iLccfDIanJAWXxR4tD1ACSxnix52BA/mkGjfkNVCAwG3bCHA
        7LDIwC44nLshF5lUPxgBqbCoWypbiw4IRdjbJncNpTdjlU7auCYR6N97NV0Ccslb
        Pmf6bJLM/yp9nSlrmui3fuhRx64GvkVxIXNYY9DHp7gTqSwGERjB+XpwwVEGM8JT
        hI8vFtsCAwEAAaNTMFEwHQYDVR0OBBYEFFUNBMSM/PnseYhC+cKB2KNX87LRMB8G
        A1UdIwQYMBaAFFUNBMSM/PnseYhC+cKB2KNX87LRMA8GA1UdEwEB/wQFMAMBAf8w
        DQYJKoZIhvcNAQELBQADggEBAJb1Na3Ydge4zs+d7w0tYEQe+BI1nVdKdUl/3i7q
        ztid8OP1+iblWA6GSoAPcGaPMfXstsePVGH9Lk5MfAnDOzOuAzr3GeqUefDhgEpj
        UyOrCIFG3DCPIVF6EqisWjfZK3qN9nppW7Nleqh7XB5/7xVvzjvHyldDIGJoi1Nh
        jO//7g01m6Pt5WFODgi17QY7Wlolny4L45EtSsUppTiJwh4mgaDKthBuTcmFN8/H
        b/3Soi0sSoIWHzD9d6efXcblbR+p92HVD4h8yV6DaqS/sbRUtFOdzWhXWbyAXgXW
        YQFirTaEYyMDIDhubx1FilYye+Ue7uslCZZmRi45rVwkZJs=
        -----END CERTIFICATE-----
        """
    static let rsaPrivateKey = """
        -----BEGIN PRIVATE KEY-----
        MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDm2Cj9DNGij+Vp
        u0TE8+CLXWv7iXjhynNyywtqv4QGoiL6hXyNSXYmFPvc5X5Ykk82whapX2T4RgAi
        Lt5EbkA9IPJsH1296sZrQROO9bNV/+eN+zXIvSpDXMVTuxEsSmP7eBcjjNvZUI6e
        3vERWPme0z7lapoQ/4i3HHwyGpyQFl8UeLQ9QAksZ4sedgQP5pBo35DVQgMBt2wh
        wOywyMAuOJy7IReZVD8YAamwqFsqW4sOCEXY2yZ3DaU3Y5VO2rgmEejfezVdAnLJ
        Wz5n+mySzP8qfZ0pa5rot37oUceuBr5FcSFzWGPQx6e4E6ksBhEYwfl6cMFRBjPC
        U4SPLxbbAgMBAAECggEAEGUQwCwdZWS/39r/ftdtPqijZylzzuFwgpoeFPZGG6x/
        PHiniGdLv1elLaKU7xhxDMwLDPtr8eAS2VqnyYdlA5Jn9TrjDv5yGiL0jyYvFvAG
        U4SgZMHekwsvLouuJA2ifTUhu5Ig+RWqE2l1CIzfqaKKKIQCLivf21VoEqzmKqtx
        jFozWRUM3LdeS4LwW+sy4pDtN81zdMaOpJx8QpNcCtZ8Nyw/Yu7xgBwo/zkrRB01
        pnhe4jBuvNHH1JhwOrRpHpZGOi4vVkjtaidg3YtMLySF3O/qCl3eYnT5l+x0s/pZ
        wpU52SEX38t296xovs66rc5dowmPaHpqVn0hMBiiBQKBgQD0Tis3R3A41KUqBYo5
        UqoekQGlJr/u5H/MdNB1PTekeahgoDbqpWGtSvDimqiN19qnf56bXmscjjZaN3K5
        TGEzpcXx0SPRD5se3p/XI/kMYO9TzcuhlXc3qRTdVIvd31wzWCPgNThWsJ2s47+G
        XQZlE90BgQgQLcjEEZ6PR5xd9wKBgQDx5QjIDEHxaTWTyXW9jAHoTMDdXnIPJtBr
        cXoHr95LhHbEQBHT5aghRFpVw4RMheAUjUi6iP7S+kZw2NIYo8+hbnt+6OsYRAn7
        HTTX8EISQyb1EKRJ8DIOlbgGCpJQ2rxglIgb9dSJDEpHN7GkL3iXZFhq/Fc0a/zn
        PTwqz2glPQKBgCxi42Eovo/kuplW5lUh2ryw9c6OqsJ5i2qXMqSKWcitPdVIZpHd
        OFDm07soBEW5GQXjnup1jhpjECb1+gcGhIaAsOUNbWd3YWSLaBkLdR01o2XjdwLF
        iCJ5usu3p63I/hRqCCKdKL4/WnZl7o836YiFwlqamd9uohJVbSx1A0jjAoGBAJjS
        FeYsuEyIJ20izdveZCYat44jaPPhlbMLkgjhNxOGsHHz+E9ivAGoaVndl+uweI0D
        ZXtTqYooy+/nS3R9qWNXpXXcOQqvkY6wOP5jr5pSCn6w8No1gaptNEG81At45aIu
        tH7VpFyhAxxTN0t/IjSjFKkimwVnY/PDYAu71RQRAoGAeQezTB+rx/ODBILT72qq
        JEDz5p0XMNVs6OPrKMSiIYicUrB9WNKntZduQh9+b3tShkznaO+KOgX/760XRTAr
        YiGEc6IlXnV45yTa+Lj+IgqYJ031LC8PCHONrBk2Ow6AsRLEfmsIBACmHCjbN5AU
        rWkAEfblPzJJgNxWMN80hR0=
        -----END PRIVATE KEY-----
        """
    static let rsaPublicKey = """
        -----BEGIN PUBLIC KEY-----
        MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA5tgo/QzRoo/labtExPPg
        i11r+4l44cpzcssLar+EBqIi+oV8jUl2JhT73OV+WJJPNsIWqV9k+EYAIi7eRG5A
        PSDybB9dverGa0ETjvWzVf/njfs1yL0qQ1zFU7sRLEpj+3gXI4zb2VCOnt7xEVj5
        ntM+5WqaEP+Itxx8MhqckBZfFHi0PUAJLGeLHnYED+aQaN+Q1UIDAbdsIcDssMjA
        LjicuyEXmVQ/GAGpsKhbKluLDghF2Nsmdw2lN2OVTtq4JhHo33s1XQJyyVs+Z/ps
        ksz/Kn2dKWua6Ld+6FHHrga+RXEhc1hj0MenuBOpLAYRGMH5enDBUQYzwlOEjy8W
        2wIDAQAB
        -----END PUBLIC KEY-----
        """
    static let ecCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBiDCCAS+gAwIBAgIURq9obYWgHegZsMm+fIPwJUmHam4wCgYIKoZIzj0EAwIw
        GTEXMBUGA1UEAwwOZWMtaXNzdWVyLnRlc3QwIBcNMjYxMjA3MTUxNzM0WhgPMjEy
        NjExMTMxNTE3MzRaMBkxFzAVBgNVBAMMDmVjLWlzc3Vlci50ZXN0MFkwEwYHKoZI
        zj0CAQYIKoZIzj0DAQcDQgAEbY1kHuxz1ui7HwqVqYAH1+dP0PMHJrSU2rpkl4S2
        PMje1UfU+FfJhzO5lZhlHRYQZ64gAjKKz3bbLcgTSva4OaNTMFEwHQYDVR0OBBYE
        FG6Xt2ebYXxRvn1kEBKfhcnBKek8MB8GA1UdIwQYMBaAFG6Xt2ebYXxRvn1kEBKf
        hcnBKek8MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgZpcTfREp
        uGpzBtCnnhal99jQXxgzx1mNMLPazvqdfzkCIB8UrfdnNX+CmP05FRCmiF4W0DUX
        3dN8Q8EIyrYUFZTF
        -----END CERTIFICATE-----
        """
    static let weakCertificate = """
        -----BEGIN CERTIFICATE-----
        MIICCDCCAXGgAwIBAgIUNExdBSQz45w+9Tz4ubBEZ8uRZucwDQYJKoZIhvcNAQEL
        BQAwFTETMBEGA1UEAwwKc21hbGwudGVzdDAgFw0yNjEyMDcxNTE3MzRaGA8yMTI2
        MTExMzE1MTczNFowFTETMBEGA1UEAwwKc21hbGwudGVzdDCBnzANBgkqhkiG9w0B
        AQEFAAOBjQAwgYkCgYEAz5AiP8sipPtv+NW+uJ7FpgLhY6a//A5UxkcyFS/Prkhu
        mSL1zExw9xXtZn71tgal+ASNgQXMjh9AvI7SD6jS1rQm6aMBSyD16N8Q1MzUhwyy
        X9r/ubehm8GHLFH2otuzCGoNl5MzNGjXGFrxmwyuVtR7tUHhmnJJCkSFZ5I5qWsC
        AwEAAaNTMFEwHQYDVR0OBBYEFCDfqnezVkM3HEsvuC+aqJExPuPxMB8GA1UdIwQY
        MBaAFCDfqnezVkM3HEsvuC+aqJExPuPxMA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZI
        hvcNAQELBQADgYEAzcH9DOBtKNuVqbdZNoHDB4c7AIK90Sx9R8w5NFrhrbjdCJcp
        thf/Kri1tN5xno2tiK3x/12oqNOY4/FSNR8AYjIngrrD/vq7V3cYUxd1QP/7Lzsb
        7vSxFuZb+qoEjINypoyB4Kb/HL5I/Zt20e8yYv70hffGg982Lv3R4HbONwk=
        -----END CERTIFICATE-----
        """
}
