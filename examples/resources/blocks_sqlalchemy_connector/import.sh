# Import by block name or sqlalchemy-connector/<name>.
terraform import blocks_sqlalchemy_connector.warehouse warehouse
