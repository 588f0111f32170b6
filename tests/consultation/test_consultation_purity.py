"""The consultation protocol ships as package data (purity: tests/test_architecture.py)."""


def test_protocol_is_package_data():
    from importlib import resources
    assert resources.files("consultation").joinpath("protocol.yaml").is_file()
