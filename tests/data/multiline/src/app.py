import logging, sys
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("app")
def parse(s):
    return int(s)
def load(cfg):
    try:
        return parse(cfg["port"])
    except KeyError as e:
        raise ValueError("config has no port") from e
log.info("starting")
try:
    load({})
except ValueError:
    log.exception("cannot start")
try:
    try:
        parse("80a")
    except ValueError:
        {}["x"]
except KeyError:
    log.exception("fallback failed")
log.info("done")
parse("eighty")
