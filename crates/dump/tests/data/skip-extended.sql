/*M!999999\- enable the sandbox mode */ 
-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: localhost    Database: hard
-- ------------------------------------------------------
-- Server version	10.11.19-MariaDB-0+deb12u1-log

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;

--
-- Current Database: `hard`
--

CREATE DATABASE /*!32312 IF NOT EXISTS*/ `hard` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci */;

USE `hard`;

--
-- Table structure for table `blobs`
--

DROP TABLE IF EXISTS `blobs`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `blobs` (
  `id` int(11) NOT NULL,
  `b` longblob DEFAULT NULL,
  `tb` tinyblob DEFAULT NULL,
  `bits` bit(10) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `blobs`
--

LOCK TABLES `blobs` WRITE;
/*!40000 ALTER TABLE `blobs` DISABLE KEYS */;
INSERT INTO `blobs` (`id`, `b`, `tb`, `bits`) VALUES (1,0x00273B5C22600A0D1A2F2A2D2D23FFFE80,0x00,0x02C5);
INSERT INTO `blobs` (`id`, `b`, `tb`, `bits`) VALUES (2,'',NULL,0x0000);
INSERT INTO `blobs` (`id`, `b`, `tb`, `bits`) VALUES (3,0x00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C00FF273B5C,0x3B3B,0x03FF);
/*!40000 ALTER TABLE `blobs` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `child`
--

DROP TABLE IF EXISTS `child`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `child` (
  `id` int(11) NOT NULL,
  `parent_id` int(11) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `fk_parent` (`parent_id`),
  CONSTRAINT `fk_parent` FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `child`
--

LOCK TABLES `child` WRITE;
/*!40000 ALTER TABLE `child` DISABLE KEYS */;
INSERT INTO `child` (`id`, `parent_id`) VALUES (10,1);
INSERT INTO `child` (`id`, `parent_id`) VALUES (11,1);
INSERT INTO `child` (`id`, `parent_id`) VALUES (12,2);
/*!40000 ALTER TABLE `child` ENABLE KEYS */;
UNLOCK TABLES;
/*!50003 SET @saved_cs_client      = @@character_set_client */ ;
/*!50003 SET @saved_cs_results     = @@character_set_results */ ;
/*!50003 SET @saved_col_connection = @@collation_connection */ ;
/*!50003 SET character_set_client  = utf8mb4 */ ;
/*!50003 SET character_set_results = utf8mb4 */ ;
/*!50003 SET collation_connection  = utf8mb4_general_ci */ ;
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`app`@`%`*/ /*!50003 TRIGGER child_ai AFTER INSERT ON child FOR EACH ROW
  UPDATE parent SET name = CONCAT(name, ';') WHERE id = NEW.parent_id 
*/;;
DELIMITER ;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;
/*!50003 SET character_set_client  = @saved_cs_client */ ;
/*!50003 SET character_set_results = @saved_cs_results */ ;
/*!50003 SET collation_connection  = @saved_col_connection */ ;

--
-- Table structure for table `empty_table`
--

DROP TABLE IF EXISTS `empty_table`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `empty_table` (
  `id` int(11) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `empty_table`
--

LOCK TABLES `empty_table` WRITE;
/*!40000 ALTER TABLE `empty_table` DISABLE KEYS */;
/*!40000 ALTER TABLE `empty_table` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `gen`
--

DROP TABLE IF EXISTS `gen`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `gen` (
  `a` int(11) DEFAULT NULL,
  `b` int(11) GENERATED ALWAYS AS (`a` * 2) VIRTUAL,
  `c` varchar(20) GENERATED ALWAYS AS (concat('v;',`a`)) STORED,
  KEY `c` (`c`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `gen`
--

LOCK TABLES `gen` WRITE;
/*!40000 ALTER TABLE `gen` DISABLE KEYS */;
INSERT INTO `gen` (`a`, `b`, `c`) VALUES (1,2,'v;1');
INSERT INTO `gen` (`a`, `b`, `c`) VALUES (2,4,'v;2');
INSERT INTO `gen` (`a`, `b`, `c`) VALUES (3,6,'v;3');
/*!40000 ALTER TABLE `gen` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `geo`
--

DROP TABLE IF EXISTS `geo`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `geo` (
  `id` int(11) NOT NULL,
  `g` geometry NOT NULL,
  `p` point DEFAULT NULL,
  PRIMARY KEY (`id`),
  SPATIAL KEY `g` (`g`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `geo`
--

LOCK TABLES `geo` WRITE;
/*!40000 ALTER TABLE `geo` DISABLE KEYS */;
INSERT INTO `geo` (`id`, `g`, `p`) VALUES (1,0x00000000010300000001000000050000000000000000000000000000000000000000000000000024400000000000000000000000000000244000000000000024400000000000000000000000000000244000000000000000000000000000000000,0x000000000101000000000000000000F03F0000000000000040);
INSERT INTO `geo` (`id`, `g`, `p`) VALUES (2,0x0000000001020000000300000000000000000000000000000000000000000000000000F03F000000000000F03F00000000000000400000000000000040,NULL);
/*!40000 ALTER TABLE `geo` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `nopk`
--

DROP TABLE IF EXISTS `nopk`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `nopk` (
  `x` int(11) DEFAULT NULL,
  `y` varchar(5) DEFAULT NULL
) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `nopk`
--

LOCK TABLES `nopk` WRITE;
/*!40000 ALTER TABLE `nopk` DISABLE KEYS */;
INSERT INTO `nopk` (`x`, `y`) VALUES (1,'a');
INSERT INTO `nopk` (`x`, `y`) VALUES (1,'a');
INSERT INTO `nopk` (`x`, `y`) VALUES (NULL,NULL);
/*!40000 ALTER TABLE `nopk` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `parent`
--

DROP TABLE IF EXISTS `parent`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `parent` (
  `id` int(11) NOT NULL,
  `name` varchar(10) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `parent`
--

LOCK TABLES `parent` WRITE;
/*!40000 ALTER TABLE `parent` DISABLE KEYS */;
INSERT INTO `parent` (`id`, `name`) VALUES (1,'a');
INSERT INTO `parent` (`id`, `name`) VALUES (2,'b');
/*!40000 ALTER TABLE `parent` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `strings`
--

DROP TABLE IF EXISTS `strings`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `strings` (
  `id` int(11) NOT NULL,
  `s` varchar(200) DEFAULT NULL,
  `t` text DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `strings`
--

LOCK TABLES `strings` WRITE;
/*!40000 ALTER TABLE `strings` DISABLE KEYS */;
INSERT INTO `strings` (`id`, `s`, `t`) VALUES (1,'it\'s','back\\slash \\\' end');
INSERT INTO `strings` (`id`, `s`, `t`) VALUES (2,'semi; colon;','DELIMITER ;;\nSELECT 1;;\nDELIMITER ;');
INSERT INTO `strings` (`id`, `s`, `t`) VALUES (3,'-- not a comment','/* nor this */ # nor this');
INSERT INTO `strings` (`id`, `s`, `t`) VALUES (4,'nul\0byte','line\nbreak\r	tab \Z ctrl-z');
INSERT INTO `strings` (`id`, `s`, `t`) VALUES (5,'héllo wörld ✓ 日本語 🎉','\"double\" `back`');
INSERT INTO `strings` (`id`, `s`, `t`) VALUES (6,NULL,'');
INSERT INTO `strings` (`id`, `s`, `t`) VALUES (7,'/*!40101 SET x=1 */;','USE other; DROP TABLE x;');
INSERT INTO `strings` (`id`, `s`, `t`) VALUES (8,'long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;','é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;');
/*!40000 ALTER TABLE `strings` ENABLE KEYS */;
UNLOCK TABLES;
/*!50003 SET @saved_cs_client      = @@character_set_client */ ;
/*!50003 SET @saved_cs_results     = @@character_set_results */ ;
/*!50003 SET @saved_col_connection = @@collation_connection */ ;
/*!50003 SET character_set_client  = utf8mb4 */ ;
/*!50003 SET character_set_results = utf8mb4 */ ;
/*!50003 SET collation_connection  = utf8mb4_general_ci */ ;
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER strings_bi BEFORE INSERT ON strings FOR EACH ROW
BEGIN
  
  IF NEW.s = 'DELIMITER ;' THEN SET NEW.s = 'x;y'; END IF;
  SET NEW.t = CONCAT(NEW.t, '/* not a comment */');
END 
*/;;
DELIMITER ;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;
/*!50003 SET character_set_client  = @saved_cs_client */ ;
/*!50003 SET character_set_results = @saved_cs_results */ ;
/*!50003 SET collation_connection  = @saved_col_connection */ ;

--
-- Temporary table structure for view `v1`
--

DROP TABLE IF EXISTS `v1`;
/*!50001 DROP VIEW IF EXISTS `v1`*/;
SET @saved_cs_client     = @@character_set_client;
SET character_set_client = utf8mb4;
/*!50001 CREATE VIEW `v1` AS SELECT
 NULL AS `id`,
 NULL AS `s` */;
SET character_set_client = @saved_cs_client;

--
-- Temporary table structure for view `v2`
--

DROP TABLE IF EXISTS `v2`;
/*!50001 DROP VIEW IF EXISTS `v2`*/;
SET @saved_cs_client     = @@character_set_client;
SET character_set_client = utf8mb4;
/*!50001 CREATE VIEW `v2` AS SELECT
 NULL AS `id` */;
SET character_set_client = @saved_cs_client;

--
-- Table structure for table `we``ird;name`
--

DROP TABLE IF EXISTS `we``ird;name`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `we``ird;name` (
  `col``q` int(11) DEFAULT NULL,
  `d;` date DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `we``ird;name`
--

LOCK TABLES `we``ird;name` WRITE;
/*!40000 ALTER TABLE `we``ird;name` DISABLE KEYS */;
INSERT INTO `we``ird;name` (`col``q`, `d;`) VALUES (1,'2024-02-29');
/*!40000 ALTER TABLE `we``ird;name` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Current Database: `hard`
--

USE `hard`;

--
-- Final view structure for view `v1`
--

/*!50001 DROP VIEW IF EXISTS `v1`*/;
/*!50001 SET @saved_cs_client          = @@character_set_client */;
/*!50001 SET @saved_cs_results         = @@character_set_results */;
/*!50001 SET @saved_col_connection     = @@collation_connection */;
/*!50001 SET character_set_client      = utf8mb4 */;
/*!50001 SET character_set_results     = utf8mb4 */;
/*!50001 SET collation_connection      = utf8mb4_general_ci */;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */
/*!50001 VIEW `v1` AS select `strings`.`id` AS `id`,`strings`.`s` AS `s` from `strings` where `strings`.`s` <> ';' */;
/*!50001 SET character_set_client      = @saved_cs_client */;
/*!50001 SET character_set_results     = @saved_cs_results */;
/*!50001 SET collation_connection      = @saved_col_connection */;

--
-- Final view structure for view `v2`
--

/*!50001 DROP VIEW IF EXISTS `v2`*/;
/*!50001 SET @saved_cs_client          = @@character_set_client */;
/*!50001 SET @saved_cs_results         = @@character_set_results */;
/*!50001 SET @saved_col_connection     = @@collation_connection */;
/*!50001 SET character_set_client      = utf8mb4 */;
/*!50001 SET character_set_results     = utf8mb4 */;
/*!50001 SET collation_connection      = utf8mb4_general_ci */;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=`app`@`%` SQL SECURITY INVOKER */
/*!50001 VIEW `v2` AS select `v1`.`id` AS `id` from `v1` */;
/*!50001 SET character_set_client      = @saved_cs_client */;
/*!50001 SET character_set_results     = @saved_cs_results */;
/*!50001 SET collation_connection      = @saved_col_connection */;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

-- Dump completed on 2026-12-02 15:42:30
